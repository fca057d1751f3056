// docs/configuration.md is what the code declares: `npm run docs` writes it from
// OPTIONS (src/config.ts) and each outlet's options; committed, it must not differ.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CONFIGURATION_PAGE, configurationMarkdown } from '../../src/config-docs.js';
import { OPTIONS } from '../../src/config.js';

it('docs/configuration.md is the table the code declares (npm run docs writes it)', () => {
  const page = readFileSync(CONFIGURATION_PAGE, 'utf8');
  expect(page, 'run `npm run docs` and commit docs/configuration.md').toBe(configurationMarkdown());
  // and every declared option is on it, by variable and flag.
  for (const o of OPTIONS) expect(page).toContain(`| \`${o.env}\` | \`--${o.flag}`);
});
