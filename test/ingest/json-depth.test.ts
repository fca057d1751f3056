import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCost } from '../../src/ingest/json-depth.js';

/** How deep a parsed value nests: the oracle, from JSON.parse's own reading. */
function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (typeof v === 'object' && v !== null) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

/** How many arrays and objects a parsed value holds, itself included. */
function containersOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + containersOf(x), 0);
  if (typeof v === 'object' && v !== null) return 1 + Object.values(v).reduce((n: number, x) => n + containersOf(x), 0);
  return 0;
}

const nestsDeeper = (text: string, max: number) => jsonCost(text, max, Infinity) === 'nested';

describe('nestsDeeper', () => {
  it('agrees with the depth of what JSON.parse builds, brackets inside strings and escapes included', () => {
    const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"[', 'a"b{');
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        tricky,
        fc.integer(),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.string(), tricky), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(nestsDeeper(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
    );
  });

  it('counts the arrays and objects JSON.parse would build', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 12 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(jsonCost(text, Infinity, max) === 'crowded').toBe(containersOf(JSON.parse(text)) > max);
      }),
    );
  });

  it('finds a half-million-deep body without parsing it', () => {
    expect(nestsDeeper('['.repeat(500_000) + ']'.repeat(500_000), 64)).toBe(true);
    expect(nestsDeeper(`{"a":"${'['.repeat(1000)}"}`, 1)).toBe(false);
  });
});
