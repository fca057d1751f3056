// Installed where a path has a space (`/Users/Jane Doe/…`, `C:\Program Files`): the
// dashboard's files are found there too (a file URL's pathname keeps `%20`).

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { freePort, sleep } from '../support/real.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('serves the dashboard when installed under a path with a space', async () => {
  const home = join(mkdtempSync(join(tmpdir(), 'drainmeter-')), 'Jane Doe', 'drainmeter');
  cpSync(join(ROOT, 'dist', 'src'), join(home, 'dist', 'src'), { recursive: true });
  cpSync(join(ROOT, 'web'), join(home, 'web'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(home, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(home, 'node_modules'));
  const port = await freePort();
  const child = spawn(process.execPath, [join(home, 'dist', 'src', 'cli.js'), 'tail', '--format', 'logfmt', '--listen', String(port)], { env: { PATH: process.env.PATH } });
  try {
    let page: Response | null = null;
    for (let i = 0; i < 100 && page === null; i++) {
      await sleep(100);
      page = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
    }
    expect(page?.status).toBe(200);
    expect(await page?.text()).toContain('<html');
    expect((await fetch(`http://127.0.0.1:${port}/dashboard/app.js`)).status).toBe(200);
  } finally {
    child.kill();
  }
});
