// The Heroku deploy path (docs/cli.md), as a dyno runs it: the Procfile's web command,
// with the environment Heroku gives (DYNO, PORT) and the secrets app.json generates
// or `heroku config:set` sets, and without them.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { freePort } from '../support/real.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const WEB = /^web:\s*(.+)$/m.exec(readFileSync(`${ROOT}Procfile`, 'utf8'))?.[1] ?? '';
const APP_JSON = JSON.parse(readFileSync(`${ROOT}app.json`, 'utf8')) as { env: Record<string, { generator?: string; value?: string }> };
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** What Heroku's `secret` generator makes: 64 hex characters. */
const generated = () => randomBytes(32).toString('hex');

describe('on a Heroku dyno', () => {
  it('refuses to start without secrets, in one line saying the heroku config:set to run', () => {
    const r = spawnSync('sh', ['-c', WEB], { cwd: ROOT, encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH, DYNO: 'web.1', PORT: '5999', HEROKU_APP_NAME: 'my-drainmeter' } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('heroku config:set DRAINMETER_SECRETS=$(openssl rand -hex 32) DRAINMETER_METRICS_TOKEN=$(openssl rand -hex 32) -a my-drainmeter');
  });

  it('starts with the secrets app.json generates: every address, PORT, drains and scrapes work', async () => {
    expect(APP_JSON.env.DRAINMETER_SECRETS.generator).toBe('secret');
    expect(APP_JSON.env.DRAINMETER_METRICS_TOKEN.generator).toBe('secret');
    const env = { PATH: process.env.PATH ?? '', DYNO: 'web.1', PORT: String(await freePort()), DRAINMETER_SECRETS: generated(), DRAINMETER_METRICS_TOKEN: generated() };
    const child = spawn('sh', ['-c', `exec ${WEB}`], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      for (let i = 0; i < 100 && !out.includes('msg=listening'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(new RegExp(`msg=listening port=${env.PORT} host=0\\.0\\.0\\.0`));
      const base = `http://127.0.0.1:${env.PORT}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      // The password `heroku run drainmeter token shop` prints, on the same config.
      const token = spawnSync(process.execPath, [`${ROOT}dist/src/cli.js`, 'token', 'shop'], { encoding: 'utf8', env: { ...env, DYNO: 'run.1' } });
      expect(token.status).toBe(0);
      const password = /^password: (\S+)$/m.exec(token.stdout)?.[1] ?? '';
      const auth = `Basic ${Buffer.from(`shop:${password}`).toString('base64')}`;
      const post = await fetch(`${base}/logs`, { method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain' }, body: 'count#deployed=1\n' });
      expect(post.status).toBe(204);
      const scrape = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${env.DRAINMETER_METRICS_TOKEN}` } });
      expect(await scrape.text()).toMatch(/^deployed_total\{app="shop"\} 1$/m);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it("names only real options in app.json, and the README's config:set sets what app.json generates", () => {
    const known = new Set(OPTIONS.map((o) => o.env));
    for (const name of Object.keys(APP_JSON.env)) expect(known.has(name), name).toBe(true);
    const generatedNames = Object.entries(APP_JSON.env).filter(([, v]) => v.generator === 'secret').map(([k]) => k);
    const configSet = /heroku config:set ((?:[A-Z_]+=\$\([^)]*\) ?)+)/.exec(README)?.[1] ?? '';
    expect(configSet.trim().split(/ (?=[A-Z_]+=)/).map((kv) => kv.split('=')[0]).sort()).toEqual(generatedNames.sort());
    expect(README).toContain('https://www.heroku.com/deploy');
  });
});
