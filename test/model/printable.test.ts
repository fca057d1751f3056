// model/printable.ts: every control character a drain can send becomes visible text.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logfmt } from '../../src/log.js';
import { jsonLine, printable } from '../../src/model/printable.js';
import { printableExposition } from '../../src/outlets/exposition.js';

/** The characters a terminal acts on: C0, DEL, C1 (ECMA-48). */
const isControl = (c: number) => c <= 0x1f || (c >= 0x7f && c <= 0x9f);
const controls = (s: string) => [...s].filter((c) => isControl(c.codePointAt(0) ?? 0));

describe('printable', () => {
  it('writes C0 and DEL as \\xNN and C1 as \\u00NN', () => {
    expect(printable('a\u001b[2J\r\b\u0007\t\u007f\u009b\u0085z')).toBe('a\\x1b[2J\\x0d\\x08\\x07\\x09\\x7f\\u009b\\u0085z');
    expect(printable('plain web.1 ünïcode')).toBe('plain web.1 ünïcode');
  });

  it('leaves no control character in logfmt, JSON or an exposition, whatever the value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (v) => {
        expect(controls(printable(v))).toEqual([]);
        expect(controls(logfmt('info', v, { source: v }))).toEqual([]);
        const json = jsonLine({ source: v });
        expect(controls(json)).toEqual([]);
        expect(JSON.parse(json)).toEqual({ source: v });
        expect(controls(printableExposition(`x{source="${v.replaceAll('\n', '\\n')}"} 1\n`).slice(0, -1))).toEqual([]);
      }),
    );
  });

  it('quotes a logfmt value that holds a control, so its escape is not the four characters \\x1b', () => {
    expect(logfmt('warn', 'refused', { source: 'a\u001bb', literal: 'a\\x1bb' })).toBe('at=warn msg=refused source="a\\x1bb" literal="a\\\\x1bb"');
  });
});
