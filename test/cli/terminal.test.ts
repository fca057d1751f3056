// Output is text, never terminal control: a real terminal (tmux) runs `serve
// --windows logfmt` and `tail` in every format, fed label values that carry a
// window-title OSC, an OSC 52 clipboard write, a screen clear, a CR before a forged
// row, backspaces and C1 CSI. The pane must show each as a visible escape, with its
// title, its clipboard and its screen untouched and no forged row.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logplexBody, syslog } from '../../fixtures/heroku.js';
import { freePort, installed, sleep } from '../support/real.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const hasTmux = installed('the terminal tests', 'tmux', ['tmux', '-V']);
const SOCKET = `drainmeter-test-${process.pid}`;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

/** Label values a hostile tenant sends, each meant to take the terminal over. */
const HOSTILE = [
  'title\u001b]0;pwned-title\u0007x',
  'clip\u001b]52;c;cHduZWQ=\u0007x',
  'clear\u001b[2Jx',
  'cr\rFORGED_ROW count=999',
  'bs\b\b\bXYZ',
  'csi\u009b2Jx',
  'osc\u009d0;c1-title\u009cx',
];
const BODIES = HOSTILE.map((v, i) => `count#hits${i}=1 source=${v}`);

/** Runs `command` in a fresh pane (a marker line first), waits for `done` in it, and gives the pane. */
async function inPane(name: string, command: string, done: RegExp, before?: () => Promise<void>): Promise<{ text: string; title: string; buffers: string }> {
  tmux('new-session', '-d', '-s', name, '-x', '220', '-y', '120', `printf 'MARKER-BEFORE\\n'; ${command}; sleep 60`);
  tmux('set-option', '-g', 'set-clipboard', 'on');
  const title = tmux('display-message', '-p', '-t', name, '#{pane_title}');
  await before?.();
  let text = '';
  for (let i = 0; i < 100 && !done.test(text); i++) {
    await sleep(100);
    text = tmux('capture-pane', '-e', '-p', '-J', '-t', name);
  }
  return { text, title: tmux('display-message', '-p', '-t', name, '#{pane_title}') === title ? 'unchanged' : 'changed', buffers: tmux('list-buffers') };
}

function expectSafe(pane: { text: string; title: string; buffers: string }, escapes: string[]) {
  expect(pane.title).toBe('unchanged');
  expect(pane.buffers).toBe('');
  expect(pane.text).toContain('MARKER-BEFORE');
  expect(pane.text).not.toMatch(/^FORGED_ROW/m);
  expect(pane.text).not.toMatch(/^XYZ/m);
  for (const e of escapes) expect(pane.text).toContain(e);
}

describe.runIf(hasTmux)('drained bytes on a real terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-term-'));
  const input = join(dir, 'hostile.log');
  // tail strips a `heroku logs` line's colours (ESC sequences) before reading it; the
  // other controls reach the output, and frames keep their ESC.
  writeFileSync(input, `${BODIES.join('\n')}\n`);
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // no server left
    }
  });

  it('serve --windows logfmt prints every control as an escape', async () => {
    const port = await freePort();
    const pane = await inPane('serve', `node ${CLI} serve --port ${port} --windows logfmt --grace 0`, /hits6_total/, async () => {
      for (let i = 0; i < 100; i++) {
        // Stamped when sent: a line older than the server's start would be late, in no window.
        const body = logplexBody(BODIES.map((b) => syslog(new Date().toISOString(), 'app', 'web.1', b)));
        const headers = { 'Content-Type': 'application/logplex-1', 'Logplex-Msg-Count': String(BODIES.length) };
        const r = await fetch(`http://127.0.0.1:${port}/logs`, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) }).catch(() => null);
        if (r?.status === 204) return;
        await sleep(100);
      }
    });
    expectSafe(pane, ['\\x1b]0;pwned-title\\x07x', '\\x1b]52;c;', '\\x1b[2Jx', 'cr\\x0dFORGED_ROW', 'bs\\x08\\x08\\x08XYZ', 'csi\\u009b2Jx', 'osc\\u009d0;c1-title\\u009cx']);
  });

  for (const format of ['logfmt', 'json', 'prom', 'table']) {
    it(`tail --format ${format} prints every control as an escape`, async () => {
      const pane = await inPane(`tail-${format}`, `node ${CLI} tail --format ${format} ${input}; printf 'MARKER-AFTER\\n'`, /MARKER-AFTER/);
      const escapes = {
        logfmt: ['title0;pwned-title\\x07x', 'cr\\x0dFORGED_ROW', 'bs\\x08\\x08\\x08XYZ', 'csi\\u009b2Jx', 'osc\\u009d0;c1-title\\u009cx'],
        json: ['title0;pwned-title\\u0007x', 'cr\\rFORGED_ROW', 'bs\\b\\b\\bXYZ', 'csi\\u009b2Jx', 'osc\\u009d0;c1-title\\u009cx'],
        prom: ['title0;pwned-title\\\\x07x', 'cr\\\\x0dFORGED_ROW', 'bs\\\\x08\\\\x08\\\\x08XYZ', 'csi\\\\u009b2Jx'],
        table: ['title0;pwned-title\\x07x', 'cr\\x0dFORGED_ROW', 'bs\\x08\\x08\\x08XYZ', 'csi\\u009b2Jx'],
      }[format] as string[];
      expectSafe(pane, escapes);
    });
  }
});
