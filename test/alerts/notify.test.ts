// The real `serve` with alert rules, a local HTTP receiver standing in for Slack,
// PagerDuty and a webhook: their documented payloads field by field on firing and on
// resolve, a 500 retried and counted, /alerts and /metrics with the credentials of
// /metrics, and a restart (state file) that neither fires again nor loses the resolve.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainPassword } from '../../src/server/auth.js';
import { find, parseExposition } from '../server/helpers.js';
import { freePort, keepPosting, sleep, until } from '../support/real.js';
import { startServe } from '../support/served.js';
import { strictAvailable, strictProblems } from '../support/strict.js';

const SECRET = 'alerts-secret-0123456789';
const TOKEN = 'alerts-token-0123456789';

interface Got {
  path: string;
  body: Record<string, unknown> | Record<string, unknown>[];
  /** Epoch ms it arrived. */
  at: number;
}

let receiver: Server;
let port = 0;
const got: Got[] = [];
let hookFailures = 1;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => resolve(b));
  });
}

beforeAll(async () => {
  port = await freePort();
  receiver = createServer(async (req, res) => {
    const body = JSON.parse(await read(req)) as Got['body'];
    got.push({ path: req.url ?? '', body, at: Date.now() });
    // The webhook's first try fails: it must be retried, and counted.
    if (req.url === '/hook' && hookFailures > 0) {
      hookFailures--;
      res.writeHead(500).end('try again');
    } else res.writeHead(req.url === '/pd' ? 202 : 200, { 'Content-Type': 'application/json' }).end('{"status":"success"}');
  });
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
});

afterAll(() => receiver.close());

const basic = (app: string) => 'Basic ' + Buffer.from(`${app}:${drainPassword(SECRET, app)}`).toString('base64');

function rules(dir: string): string {
  const p = join(dir, 'alerts.yml');
  writeFileSync(
    p,
    `notify:
  ops: { slack: "http://127.0.0.1:${port}/slack" }
  hook: { webhook: "http://127.0.0.1:${port}/hook" }
  pd: { pagerduty: "ROUTING-KEY-1", url: "http://127.0.0.1:${port}/pd" }
alerts:
  - name: slow-checkout
    app: shop
    metric: checkout_latency_seconds
    where: { source: web.1 }
    stat: max
    above: 0.5
    over: 10s
    rearm: 10m
    notify: [ops, hook, pd]
  - name: other-app
    app: other
    metric: queue_depth
    stat: last
    above: 100
    notify: [hook]
`,
  );
  return p;
}

/** Posts `line` as app shop every 250 ms until the returned stop() is called. */
const keepSending = (base: string, line: string) => keepPosting(base, line, { Authorization: basic('shop') });

const of = (path: string) => got.filter((g) => g.path === path).map((g) => g.body as Record<string, unknown>);

describe('notifications from serve', () => {
  it('sends the documented payloads on firing and on resolve, retries a 500, and shows the alert on /alerts and /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alerts-'));
    const env = { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_ALERTS: rules(dir), DRAINMETER_STATE_FILE: join(dir, 'state.json') };
    const s = await startServe(env);
    try {
      // Good lines for longer than `over`: the evaluator has watched a whole span.
      const warm = keepSending(s.base, 'measure#checkout.latency=100ms source=web.1');
      await sleep(11_000);
      await warm();
      // Lines whose max over any window is the value sent: 0.8 s (800ms).
      const firstLine = Date.now();
      const stop = keepSending(s.base, 'measure#checkout.latency=800ms source=web.1');
      const fired = await until(async () => of('/pd'), (x) => x.length >= 1, 60_000);
      const delay = got.find((g) => g.path === '/hook')!.at - firstLine;
      console.log(`delay from the first breaching line to the webhook: ${(delay / 1000).toFixed(1)} s (for 0, a 1 s window, grace 2 s, 10 s evaluation steps)`);
      expect(fired).toHaveLength(1);
      await until(async () => of('/hook'), (x) => x.length >= 2, 10_000); // the retry after the 500

      const hook = of('/hook');
      expect(hook).toHaveLength(2);
      expect(hook[0]).toEqual(hook[1]);
      expect(Object.keys(hook[0]).sort()).toEqual(['alert', 'app', 'labels', 'since', 'stat', 'state', 'threshold', 'value']);
      expect(hook[0]).toMatchObject({ alert: 'slow-checkout', app: 'shop', labels: { source: 'web.1' }, state: 'firing', value: 0.8, threshold: 0.5, stat: 'max' });
      const since = Date.parse(hook[0].since as string);
      expect(since).toBeGreaterThanOrEqual(Math.floor(firstLine / 10_000) * 10_000);
      expect(since).toBeLessThanOrEqual(Date.now());

      const slack = of('/slack');
      expect(slack).toHaveLength(1);
      expect(slack[0].text).toEqual(expect.stringContaining('slow-checkout firing: shop checkout_latency_seconds{source="web.1"} max 0.8, above 0.5 over 10s'));
      expect(slack[0].blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining(slack[0].text as string) } }]);

      const pd = fired[0];
      expect(pd).toMatchObject({ routing_key: 'ROUTING-KEY-1', event_action: 'trigger', dedup_key: 'drainmeter/slow-checkout/shop{source="web.1"}' });
      const payload = pd.payload as Record<string, unknown>;
      expect(payload).toMatchObject({ source: 'shop', severity: 'critical' });
      expect(typeof payload.summary).toBe('string');
      expect((payload.summary as string).length).toBeLessThanOrEqual(1024);

      // /alerts: the app's Basic credentials see its own alerts; the token every app's; nothing without.
      expect((await fetch(`${s.base}/alerts`)).status).toBe(401);
      const mine = (await (await fetch(`${s.base}/alerts`, { headers: { Authorization: basic('shop') } })).json()) as { rules: { name: string }[]; alerts: Record<string, unknown>[]; recent: Record<string, unknown>[] };
      expect(mine.rules.map((r) => r.name)).toEqual(['slow-checkout']);
      expect(mine.alerts).toEqual([expect.objectContaining({ alert: 'slow-checkout', app: 'shop', labels: { source: 'web.1' }, state: 'firing', value: 0.8, since: hook[0].since })]);
      expect(mine.recent).toEqual([expect.objectContaining({ alert: 'slow-checkout', state: 'firing', value: 0.8 })]);
      const all = (await (await fetch(`${s.base}/alerts`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { rules: { name: string }[] };
      expect(all.rules.map((r) => r.name)).toEqual(['slow-checkout', 'other-app']);
      const otherView = (await (await fetch(`${s.base}/alerts`, { headers: { Authorization: basic('other') } })).json()) as { alerts: unknown[]; recent: unknown[] };
      expect(otherView.alerts).toEqual([]);
      expect(otherView.recent).toEqual([]);

      // Good lines: resolved, once, to each.
      await stop();
      const stopGood = keepSending(s.base, 'measure#checkout.latency=100ms source=web.1');
      await until(async () => of('/pd'), (x) => x.length >= 2, 60_000);
      await sleep(1500);
      await stopGood();
      expect(of('/pd')[1]).toEqual({ routing_key: 'ROUTING-KEY-1', event_action: 'resolve', dedup_key: pd.dedup_key });
      expect(of('/hook').slice(2)).toEqual([expect.objectContaining({ alert: 'slow-checkout', state: 'resolved', value: 0.1, threshold: 0.5, since: hook[0].since })]);
      expect(of('/slack')[1].text).toEqual(expect.stringContaining('slow-checkout resolved: shop checkout_latency_seconds{source="web.1"} max 0.1, no longer above 0.5 over 10s'));

      const text = await (await fetch(`${s.base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
      if (strictAvailable) {
        const om = await (await fetch(`${s.base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/openmetrics-text; version=1.0.0' } })).text();
        expect(strictProblems(text, om)).toBe('');
      }
      const metrics = parseExposition(text);
      expect(find(metrics, 'drainmeter_alerts', { alert: 'slow-checkout', state: 'firing' })[0].value).toBe(0);
      expect(find(metrics, 'drainmeter_alert_notifications_total', { notifier: 'hook', outcome: 'sent' })[0].value).toBe(2);
      expect(find(metrics, 'drainmeter_alert_notifications_total', { notifier: 'pd', outcome: 'sent' })[0].value).toBe(2);
      expect(find(metrics, 'drainmeter_alert_notification_failures_total', { notifier: 'hook', reason: 'http_500' })[0].value).toBe(1);
      expect(find(metrics, 'drainmeter_alert_transitions_total', { state: 'resolved' })[0].value).toBe(1);
      // One app's /metrics has its own rules only.
      const shop = parseExposition(await (await fetch(`${s.base}/metrics`, { headers: { Authorization: basic('shop') } })).text());
      expect(find(shop, 'drainmeter_alerts').map((x) => x.labels.alert)).toEqual(['slow-checkout', 'slow-checkout']);
      expect(find(shop, 'drainmeter_alert_notifications_total')).toEqual([]);
    } finally {
      await s.stop();
    }
  }, 180_000);

  it('after a restart, does not fire again inside rearm and still sends the resolve', async () => {
    got.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'drainmeter-alerts-'));
    const env = { DRAINMETER_SECRETS: SECRET, DRAINMETER_METRICS_TOKEN: TOKEN, DRAINMETER_ALERTS: rules(dir), DRAINMETER_STATE_FILE: join(dir, 'state.json') };
    let s = await startServe(env);
    let stop = keepSending(s.base, 'measure#checkout.latency=900ms source=web.1');
    try {
      await until(async () => of('/pd'), (x) => x.length >= 1, 60_000);
      await stop();
      await s.stop();
      // Restarted while still breaching: warm for `over`, then still firing, nothing sent again.
      s = await startServe(env);
      stop = keepSending(s.base, 'measure#checkout.latency=900ms source=web.1');
      const view = await until(
        async () => (await (await fetch(`${s.base}/alerts`, { headers: { Authorization: basic('shop') } })).json()) as { evaluator: { evaluated_to: string }; alerts: { state: string; value: number }[] },
        (v) => v.alerts.length > 0 && v.alerts[0].value === 0.9,
        40_000,
      );
      expect(view.alerts[0].state).toBe('firing');
      await sleep(11_000); // one more evaluation step
      expect(of('/pd').map((b) => b.event_action)).toEqual(['trigger']);
      await stop();
      // Then good lines: the new process resolves what the old one fired.
      stop = keepSending(s.base, 'measure#checkout.latency=100ms source=web.1');
      await until(async () => of('/pd'), (x) => x.length >= 2, 60_000);
      expect(of('/pd').map((b) => b.event_action)).toEqual(['trigger', 'resolve']);
      expect(of('/pd')[1].dedup_key).toBe(of('/pd')[0].dedup_key);
    } finally {
      await stop();
      await s.stop();
    }
  }, 240_000);
});
