// The commands in the README and docs/ work as written: Debian's `prometheus` needs a writable
// --storage.tsdb.path (its default is under /var/lib), and a remote-written measure
// holds both the native histogram and the summary's quantiles under one name, so a
// histogram_quantile over it must pick the histogram with {quantile=""} (as
// examples/grafana-dashboard.json does): without it, rate() mixes in the quantile
// series and the query returns nothing.

import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const docs = new URL('../../docs/', import.meta.url);
const README = [readFileSync(new URL('../../README.md', import.meta.url), 'utf8'), ...readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => readFileSync(new URL(f, docs), 'utf8'))].join('\n');

it('gives every prometheus command line a storage path', () => {
  const commands = [...README.matchAll(/(?:^|`|#\s+)(prometheus --[^`\n]*)/gm)].map((m) => m[1]);
  expect(commands.length).toBeGreaterThan(0);
  for (const c of commands) expect(c).toContain('--storage.tsdb.path=');
});

it('selects the histogram with {quantile=""} in every histogram_quantile over a measure', () => {
  const queries = [...README.matchAll(/histogram_quantile\([^`]*\)/g)].map((m) => m[0]);
  expect(queries.length).toBeGreaterThan(0);
  for (const q of queries) expect(q).toContain('{quantile=""}');
});
