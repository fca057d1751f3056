// The screenshots of docs/dashboard.md: `drainmeter serve` on a free port, the
// example log replayed into it as a live drain (`replay --now --rate 20`, three
// minutes with H12s and an R14), then chromium (Debian's, driven by playwright-core)
// takes the overview and a series view.
//
//   npm run build && node dist/examples/screenshots.js [seconds of replay, default 200]

import { spawn } from 'node:child_process';

const CLI = new URL('../src/cli.js', import.meta.url).pathname;
const LOG = new URL('../../examples/heroku.log', import.meta.url).pathname;
const DOCS = new URL('../../docs/', import.meta.url).pathname;
const seconds = Number(process.argv[2] ?? 200);

const serve = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: { PATH: process.env.PATH ?? '', DRAINMETER_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => {
  let out = '';
  serve.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /msg=listening port=(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
});
const base = `http://127.0.0.1:${port}`;
try {
  const replay = spawn(process.execPath, [CLI, 'replay', LOG, '--url', `${base}/logs`, '--now', '--rate', '20'], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/`);
  await page.waitForTimeout(4000);
  await page.screenshot({ path: `${DOCS}dashboard.png`, fullPage: true });
  const series = await browser.newPage({ viewport: { width: 1280, height: 620 } });
  await series.goto(`${base}/#app=default&view=series&metric=heroku_router_service_seconds&group=dyno`);
  await series.waitForTimeout(4000);
  await series.screenshot({ path: `${DOCS}dashboard-series.png` });
  await browser.close();
  replay.kill('SIGTERM');
} finally {
  serve.kill('SIGTERM');
}
