// A real Alertmanager (Debian's prometheus-alertmanager) on loopback: drainmeter's
// alert shows firing in its v2 API with alertname, app and the series' labels, and
// Alertmanager itself then says resolved (its webhook, send_resolved) once the lines
// are good again.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, keepPosting, installed, until } from '../support/real.js';
import { startServe } from '../support/served.js';

const have = installed('the Alertmanager tests', 'prometheus-alertmanager', ['prometheus-alertmanager', '--version']);

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: string };
}

let am: ChildProcess | null = null;
let amPort = 0;
let hookServer: Server;
/** What Alertmanager's own webhook receiver was sent. */
const notified: { status: string; alerts: { status: string; labels: Record<string, string> }[] }[] = [];

beforeAll(async () => {
  if (!have) return;
  const hookPort = await freePort();
  hookServer = createServer((req, res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => {
      notified.push(JSON.parse(b));
      res.end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'drainmeter-am-'));
  writeFileSync(
    join(dir, 'am.yml'),
    `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:${hookPort}/
        send_resolved: true
`,
  );
  amPort = await freePort();
  am = spawn('prometheus-alertmanager', [`--config.file=${join(dir, 'am.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { stdio: 'ignore' });
  await until(
    async () => fetch(`http://127.0.0.1:${amPort}/-/ready`).then((r) => r.ok, () => false),
    (ok) => ok,
    20_000,
  );
});

afterAll(() => {
  am?.kill('SIGTERM');
  hookServer?.close();
});

async function amAlerts(): Promise<AmAlert[]> {
  return (await (await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`)).json()) as AmAlert[];
}

const keepSending = (base: string, line: string) => keepPosting(base, line);

describe.runIf(have)('Alertmanager', () => {
  it('shows the alert firing with its labels, then resolved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-am-rules-'));
    const rules = join(dir, 'alerts.yml');
    writeFileSync(
      rules,
      `notify:
  am: { alertmanager: "http://127.0.0.1:${amPort}" }
alerts:
  - { name: queue-deep, app: default, metric: queue_depth, stat: max, above: 50, over: 10s, severity: warning, notify: am }
`,
    );
    const s = await startServe({ DRAINMETER_ALERTS: rules, DRAINMETER_STATE_FILE: join(dir, 'state.json') });
    try {
      let stop = keepSending(s.base, 'sample#queue.depth=75 source=worker.1');
      const firing = await until(amAlerts, (a) => a.length > 0, 60_000);
      expect(firing).toHaveLength(1);
      expect(firing[0].labels).toEqual({ alertname: 'queue-deep', app: 'default', source: 'worker.1', severity: 'warning' });
      expect(firing[0].status.state).toBe('active');
      expect(firing[0].annotations).toMatchObject({ value: '75', threshold: '50', stat: 'max' });
      await until(async () => notified, (n) => n.some((x) => x.status === 'firing'), 20_000);
      await stop();
      stop = keepSending(s.base, 'sample#queue.depth=3 source=worker.1');
      // Resolved: gone from the active alerts, and Alertmanager's webhook says resolved.
      expect(await until(amAlerts, (a) => a.length === 0, 60_000)).toEqual([]);
      const resolved = await until(async () => notified, (n) => n.some((x) => x.status === 'resolved'), 20_000);
      const last = resolved.find((x) => x.status === 'resolved');
      expect(last?.alerts.map((a) => [a.status, a.labels.alertname, a.labels.app, a.labels.source])).toEqual([['resolved', 'queue-deep', 'default', 'worker.1']]);
      await stop();
    } finally {
      await s.stop();
    }
  }, 180_000);
});
