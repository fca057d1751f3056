// What a JSON text would cost JSON.parse, found before it builds anything: a body of
// 1 MB of `[[[…]]]` is half a million nested arrays, one of `[{},{},…]` a third of a
// million objects, and either costs the event loop 15 to 50 times what 1 MB of
// logplex frames does (bench/flood.ts). No OTLP request nests past a few dozen levels
// or opens an object or array for every few bytes (docs/limits.md). Strings are
// skipped with their escapes, so a bracket inside one does not count.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Why `text` is refused unparsed: 'nested' past `maxDepth` arrays and objects inside
 * one another, 'crowded' past `maxContainers` of them in all; null when neither.
 */
export function jsonCost(text: string, maxDepth: number, maxContainers: number): 'nested' | 'crowded' | null {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return 'nested';
      if (++containers > maxContainers) return 'crowded';
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return null;
}
