// docs/architecture.md held to the code: its layers, checked on every import in src/
// (a module imports its own folder and lower layers only, never a higher one or a
// sibling of its layer), and its code map, which names every file of src/.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');

/** Each folder or top-level file of src/, by layer (docs/architecture.md). */
const LAYERS: string[][] = [
  ['model'],
  ['log.ts', 'options.ts', 'input-file.ts'],
  ['ingest', 'aggregate'],
  ['history'],
  ['outlets'],
  ['alerts'],
  ['config.ts'],
  ['pipeline.ts'],
  ['scale'],
  ['server'],
  // The commands, wired together: they may use each other.
  ['tail', 'tail.ts', 'replay.ts', 'cluster.ts', 'config-docs.ts', 'cli.ts'],
];
const TOP = LAYERS.length - 1;

function layerOf(unit: string): number {
  const i = LAYERS.findIndex((l) => l.includes(unit));
  if (i < 0) throw new Error(`src/${unit} is in no layer of docs/architecture.md`);
  return i;
}

/** The folder (or top-level file) of src/ a path belongs to. */
const unitOf = (path: string) => relative(SRC, path).split('/')[0].replace(/\.js$/, '.ts');

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* sources(join(dir, e.name));
    else if (e.name.endsWith('.ts')) yield join(dir, e.name);
  }
}

describe('layers', () => {
  it('no module of src/ imports a higher layer, or another folder of its own layer', () => {
    const wrong: string[] = [];
    let imports = 0;
    for (const file of sources(SRC)) {
      const from = unitOf(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        imports++;
        const to = unitOf(normalize(join(dirname(file), m[1])));
        if (to === from) continue;
        const a = layerOf(from);
        const b = layerOf(to);
        if (b > a || (b === a && a !== TOP)) wrong.push(`${relative(SRC, file)} imports ${m[1]}`);
      }
    }
    expect(imports).toBeGreaterThan(300);
    expect(wrong).toEqual([]);
  });

  it('the code map names every file of src/, and no file that is gone', () => {
    const doc = readFileSync(join(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    const map = doc.slice(doc.indexOf('## The code, file by file'), doc.indexOf('## The path of one line'));
    // A row names a file by its path under its section's folder (`routes/logs.ts`) or under src/.
    const rows: string[] = [];
    let folder = '';
    for (const line of map.split('\n')) {
      const section = /^### src\/(\w+)/.exec(line);
      if (section) folder = `${section[1]}/`;
      if (line.startsWith('### The rest')) folder = '';
      const cell = /^\| `([^`]+\.ts)`/.exec(line);
      if (cell) rows.push(cell[1].startsWith('src/') ? cell[1].slice(4) : folder + cell[1]);
    }
    const files = [...sources(SRC)].map((f) => relative(SRC, f)).sort();
    expect(files.filter((f) => !rows.includes(f))).toEqual([]);
    expect(rows.filter((r) => !files.includes(r))).toEqual([]);
  });
});
