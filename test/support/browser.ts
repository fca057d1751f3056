// What the dashboard's browser tests share: Debian's chromium started headless with
// nothing of its own reaching the network, and lines posted to a drain as text.

import { expect } from 'vitest';

/** Flags for Debian's chromium under playwright-core: headless, and no background traffic to other hosts. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Posts `lines` (`source[proc]: message`) stamped `at` (epoch ms) as text/plain, with `authorization`; expects 204. */
export async function postLines(port: number, authorization: string, at: number, lines: string[]): Promise<void> {
  const stamp = new Date(at).toISOString();
  const body = lines.map((m) => `${stamp} ${m}\n`).join('');
  const r = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization }, body });
  expect(r.status).toBe(204);
}
