import fc from 'fast-check';
import logfmt from 'logfmt';
import { describe, expect, it } from 'vitest';
import { LOGFMT_CASES } from '../../fixtures/logfmt-cases.js';
import { BARE, QUOTED, Tokenizer, valueText } from '../../src/ingest/index.js';

const tok = new Tokenizer();

/** Our reading of a line, as the case list writes it: last key wins, bare keys true. */
function ours(line: string): Record<string, string | true> {
  const buf = Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line);
  const out: Record<string, string | true> = {};
  tok.reset(buf, 0, buf.length);
  while (tok.next()) {
    const key = buf.toString('utf8', tok.keyStart, tok.keyEnd);
    out[key] = tok.flags & BARE ? true : valueText(buf, tok.valueStart, tok.valueEnd, tok.flags);
  }
  return out;
}

/** Ours with the package's conversions applied: empty unquoted null, true/false booleans. */
function asLogfmt(line: string): Record<string, string | boolean | null> {
  const buf = Buffer.from(line.endsWith('\n') ? line.slice(0, -1) : line);
  const out: Record<string, string | boolean | null> = {};
  tok.reset(buf, 0, buf.length);
  while (tok.next()) {
    const key = buf.toString('utf8', tok.keyStart, tok.keyEnd);
    if (tok.flags & BARE) {
      if (key.length > 0) out[key] = true;
      continue;
    }
    const v = valueText(buf, tok.valueStart, tok.valueEnd, tok.flags);
    out[key] = v === 'true' ? true : v === 'false' ? false : v === '' && !(tok.flags & QUOTED) ? null : v;
  }
  return out;
}

describe('logfmt tokenizer conformance (one case list, two implementations)', () => {
  for (const c of LOGFMT_CASES) {
    it(`${c.why ? `differs (${c.why})` : 'agrees'}: ${JSON.stringify(c.line)}`, () => {
      expect(ours(c.line)).toEqual(c.pairs);
      const theirs = logfmt.parse(c.line);
      if (c.logfmt === undefined) {
        expect(asLogfmt(c.line)).toEqual(theirs);
      } else {
        // The difference is real and is exactly the one written down.
        expect(theirs).toEqual(c.logfmt);
        expect(asLogfmt(c.line)).not.toEqual(theirs);
      }
    });
  }
});

/** logfmt as a careful writer produces it: quotes where needed, `\` and `"` escaped. */
function serialize(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => (v === '' || /[ ="\\]/.test(v) ? `${k}="${v.replace(/[\\"]/g, (c) => '\\' + c)}"` : `${k}=${v}`))
    .join(' ');
}

const key = fc.stringMatching(/^[a-z#._][a-z0-9#._-]{0,12}$/);
const value = fc.string({ maxLength: 20 }).filter((v) => !v.includes('\n'));

describe('logfmt tokenizer properties', () => {
  it('reads back exactly what a writer wrote, and agrees with the logfmt package on it', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: (p) => p[0], maxLength: 8 }), (pairs) => {
        const line = serialize(pairs);
        expect(ours(line)).toEqual(Object.fromEntries(pairs));
        expect(asLogfmt(line)).toEqual(logfmt.parse(line));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws, always ends, and reports ordered ranges inside the line, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 20 }), (bytes, pad) => {
        // The range sits inside a larger buffer: nothing may be read outside it.
        const buf = Buffer.concat([Buffer.from('x'.repeat(pad)), Buffer.from(bytes), Buffer.from('" =')]);
        const start = pad;
        const end = pad + bytes.length;
        tok.reset(buf, start, end);
        let pairs = 0;
        let last = start;
        while (tok.next()) {
          pairs++;
          expect(pairs).toBeLessThanOrEqual(bytes.length);
          expect(tok.keyStart).toBeGreaterThanOrEqual(last);
          expect(tok.keyEnd).toBeGreaterThanOrEqual(tok.keyStart);
          expect(tok.valueStart).toBeGreaterThanOrEqual(tok.keyEnd);
          expect(tok.valueEnd).toBeGreaterThanOrEqual(tok.valueStart);
          expect(tok.valueEnd).toBeLessThanOrEqual(end);
          last = tok.valueEnd;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
