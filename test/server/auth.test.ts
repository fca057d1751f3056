// Drain credentials (docs/http-api.md): the password of APP is base64url(HMAC-SHA256(secret,
// APP)) without padding, under any of the secrets. The expected passwords are made
// here with node:crypto as docs/http-api.md spells them, not with the code under test.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KEPT_PASSWORDS, verifyDrain } from '../../src/server/auth.js';

/** The password as docs/http-api.md defines it, computed here on its own. */
const documented = (secret: string, app: string) => createHmac('sha256', secret).update(app, 'utf8').digest('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

describe('verifyDrain', () => {
  it('accepts each app its password under any secret, and nothing else, before and after the kept passwords turn over', () => {
    const secrets = ['first-secret', 'second-secret'];
    const apps = Array.from({ length: KEPT_PASSWORDS + 500 }, (_, i) => `app-${i}`);
    for (let round = 0; round < 2; round++) {
      for (const [i, app] of apps.entries()) {
        const good = documented(secrets[i % 2], app);
        expect(verifyDrain(secrets, app, good)).toBe(true);
        expect(verifyDrain(secrets, app, documented(secrets[(i + 1) % 2], app))).toBe(true);
        // Another app's password, one character changed, cut short, longer, empty.
        expect(verifyDrain(secrets, app, documented(secrets[0], apps[(i + 1) % apps.length]))).toBe(false);
        expect(verifyDrain(secrets, app, (good[0] === 'A' ? 'B' : 'A') + good.slice(1))).toBe(false);
        expect(verifyDrain(secrets, app, good.slice(0, -1))).toBe(false);
        expect(verifyDrain(secrets, app, good + 'A')).toBe(false);
        expect(verifyDrain(secrets, app, '')).toBe(false);
      }
    }
  });

  it('answers by the secrets it is given: a rotated list verifies its own passwords only', () => {
    const before = ['old-secret'];
    const after = ['new-secret', 'old-secret'];
    const later = ['new-secret'];
    expect(verifyDrain(before, 'shop', documented('old-secret', 'shop'))).toBe(true);
    expect(verifyDrain(before, 'shop', documented('new-secret', 'shop'))).toBe(false);
    expect(verifyDrain(after, 'shop', documented('new-secret', 'shop'))).toBe(true);
    expect(verifyDrain(after, 'shop', documented('old-secret', 'shop'))).toBe(true);
    expect(verifyDrain(later, 'shop', documented('old-secret', 'shop'))).toBe(false);
    expect(verifyDrain(later, 'shop', documented('new-secret', 'shop'))).toBe(true);
    expect(verifyDrain([], 'shop', '')).toBe(false);
  });
});
