// docs/configuration.md, made from the options the code declares: config.ts's own
// and each outlet's (outlets/index.ts). `npm run docs` writes it; a test fails when
// the committed page differs from what the code declares.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BOOLEAN_FLAGS, OPTIONS } from './config.js';
import type { Option } from './options.js';
import { OUTLET_OPTIONS, OUTLETS } from './outlets/index.js';

const cell = (text: string) => text.replaceAll('|', '\\|');

function table(options: readonly Option[]): string {
  const rows = options.map((o) => {
    const flag = BOOLEAN_FLAGS.has(o.flag) ? `\`--${o.flag}\` (no value)` : `\`--${o.flag} V\``;
    const dflt = o.default === '' ? '' : `\`${o.default}\``;
    return `| \`${o.env}\` | ${flag} | ${dflt} | ${cell(o.describe)} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** The page, as `npm run docs` writes it. */
export function configurationMarkdown(): string {
  const outletFlags = new Set(OUTLET_OPTIONS.map((o) => o.flag));
  const core = OPTIONS.filter((o) => !outletFlags.has(o.flag));
  const parts = [
    '# Configuration',
    '',
    '<!-- Written by `npm run docs` from the options the code declares (src/config.ts and',
    "each outlet's own); test/cli/docs.test.ts fails when this page differs from them. -->",
    '',
    'Every option is an environment variable and a flag of `drainmeter serve` and',
    '`drainmeter tail` (`--max-series 5000` ⇔ `DRAINMETER_MAX_SERIES=5000`); a flag wins',
    'over its variable. Values are read and checked once, at start: a bad one stops the',
    'process with one line naming the variable and what it accepts, exit 2',
    '([cli.md](cli.md)). A flag that takes no value is true when given and false when',
    'left out; its variable takes `true`, `false`, `1` or `0`. An empty variable is',
    'the same as an unset one.',
    '',
    '## The server and the pipeline',
    '',
    table(core),
    '',
    '## Outlets',
    '',
    'Each outlet declares its own options; setting them turns it on.',
  ];
  for (const outlet of OUTLETS) parts.push('', `### ${outlet.name}`, '', table(outlet.options));
  return `${parts.join('\n')}\n`;
}

// From dist/src (npm run docs) or src (the test): the repository's docs/.
export const CONFIGURATION_PAGE = fileURLToPath(new URL(import.meta.url.includes('/dist/src/') ? '../../docs/configuration.md' : '../docs/configuration.md', import.meta.url));

// `node dist/src/config-docs.js` (npm run docs): writes the page.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_PAGE, configurationMarkdown());
  process.stdout.write(`wrote ${CONFIGURATION_PAGE}\n`);
}
