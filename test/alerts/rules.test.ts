// The rules file: every kind of bad file stops with one line naming the rule and the
// field (exit 2 from `serve` and `check`), a good one passes `drainmeter check`
// (exit 0, a one-line summary), and the Prometheus export passes `promtool check rules`.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRules } from '../../src/alerts/rules.js';
import { installed } from '../support/real.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/alerts.yml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'drainmeter-rules-'));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const NOTIFY = 'notify:\n  ops: { slack: "https://hooks.slack.com/services/T/B/X" }\nalerts:\n';
const rule = (fields: string) => `${NOTIFY}  - name: slow\n    metric: checkout_latency_seconds\n${fields}`;

describe('a bad rules file', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown stat', rule('    stat: p101\n    above: 1\n    notify: [ops]\n'), /rule "slow": stat must be pNN .* not "p101"/],
    ['threshold not a number', rule('    stat: p99\n    above: fast\n    notify: [ops]\n'), /rule "slow": above must be a number, not "fast"/],
    ['both above and below', rule('    stat: p99\n    above: 1\n    below: 0.1\n    notify: [ops]\n'), /rule "slow": below and above are both given/],
    ['neither above nor below', rule('    stat: p99\n    notify: [ops]\n'), /rule "slow": above is missing: give one of above: N, below: N or absent: true/],
    ['unknown notifier', rule('    stat: p99\n    above: 1\n    notify: [pager]\n'), /rule "slow": notify names an unknown notifier "pager" \(defined: ops\)/],
    ['duplicate names', rule('    stat: p99\n    above: 1\n    notify: [ops]\n  - { name: slow, metric: x, stat: max, above: 2, notify: ops }\n'), /rule "slow": name is used by an earlier rule/],
    ['bad over', rule('    stat: p99\n    above: 1\n    over: 5 minutes\n    notify: [ops]\n'), /rule "slow": over must be a duration.* not "5 minutes"/],
    ['bad for', rule('    stat: p99\n    above: 1\n    for: -1m\n    notify: [ops]\n'), /rule "slow": for must be a duration/],
    ['bad rearm', rule('    stat: p99\n    above: 1\n    rearm: 10x\n    notify: [ops]\n'), /rule "slow": rearm must be a duration/],
    ['unknown field', rule('    stat: p99\n    above: 1\n    treshold: 2\n    notify: [ops]\n'), /rule "slow": treshold is not a rule field/],
    ['bad notifier', 'notify:\n  ops: { slak: "https://x" }\nalerts: []\n', /notifier "ops": unknown field slak/],
    ['YAML that does not parse', `${NOTIFY}  - name: slow\n    metric: [unclosed\n`, /line \d+: not YAML: /],
  ];

  for (const [what, text, message] of cases) {
    it(`stops with one line naming the rule and the field: ${what}`, () => {
      expect(() => parseRules(text, 'alerts.yml')).toThrow(message);
      const p = file(`${what.replace(/\W+/g, '-')}.yml`, text);
      const checked = run(['check', p]);
      expect(checked.code).toBe(2);
      expect(checked.stderr.trim().split('\n')).toHaveLength(1);
      expect(checked.stderr).toMatch(message);
      expect(checked.stderr.startsWith(`drainmeter: ${p}`)).toBe(true);
    });
  }

  it('gives the line of a YAML error', () => {
    expect(() => parseRules('alerts:\n  - name: a\n    where: { a: 1\n', 'f.yml')).toThrow(/^f\.yml line [34]: not YAML/);
  });

  it('stops serve before it listens, exit 2, the same line', () => {
    const p = file('serve-bad.yml', rule('    stat: p101\n    above: 1\n    notify: [ops]\n'));
    for (const r of [run(['serve', '--port', '0'], { DRAINMETER_ALERTS: p }), run(['serve', '--port', '0', '--alerts', p])]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/rule "slow": stat must be pNN/);
      expect(r.stdout).not.toContain('listening');
    }
    const missing = run(['serve', '--port', '0', '--alerts', join(dir, 'nope.yml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yml: cannot read the alert rules: ENOENT/);
  });
});

describe('a good rules file', () => {
  it('passes drainmeter check with a one-line summary: the example for Heroku apps', () => {
    const r = run(['check', EXAMPLE]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${EXAMPLE}: 7 rules, 2 notifiers: ok\n`);
  });

  it('reads defaults as documented: over 1m, for 0, rearm 10m, each series', () => {
    const [r] = parseRules(rule('    stat: p99.9\n    above: 0.5\n    where: { source: "~web\\\\..*", status: "!200" }\n    notify: ops\n')).rules;
    expect(r).toMatchObject({ q: 0.999, overS: 60, forS: 0, rearmS: 600, each: 'series', op: 'above', threshold: 0.5, notify: ['ops'] });
    expect(r.where.map((m) => [m.label, m.negate, m.regex?.test('web.12'), m.equal])).toEqual([['source', false, true, null], ['status', true, undefined, '200']]);
  });
});

describe('drainmeter alerts --prometheus', () => {
  it.runIf(installed('the Prometheus rules tests', 'prometheus', ['promtool', '--version']))('writes rules promtool checks clean, each saying how exact it is', () => {
    const rules = file(
      'export.yml',
      `${NOTIFY}` +
        '  - { name: slow-checkout, app: shop, metric: checkout_latency_seconds, where: { source: web.1 }, stat: p99, above: 0.5, over: 1m, for: 2m, notify: ops }\n' +
        '  - { name: orders-stopped, app: shop, metric: orders_total, absent: true, over: 10m, each: all, notify: ops }\n' +
        '  - { name: mean-latency, metric: checkout_latency_seconds, stat: mean, above: 0.2, each: all, notify: ops }\n' +
        '  - { name: odd-quantile, metric: checkout_latency_seconds, stat: p42, above: 0.2, notify: ops }\n',
    );
    const out = join(dir, 'prometheus-rules.yml');
    const r = run(['alerts', rules, '--prometheus', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/3 of 4 rules written; left out \(see the comments\): odd-quantile/);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('expr: checkout_latency_seconds{app="shop",source="web.1",quantile="0.99"} > 0.5');
    expect(text).toContain('for: 2m');
    expect(text).toContain('absent_over_time(orders_total{app="shop"}[10m])');
    expect(text).toContain('# odd-quantile: left out: quantile 0.42 is not in DRAINMETER_QUANTILES');
    expect(execFileSync('promtool', ['check', 'rules', out], { encoding: 'utf8' })).toMatch(/SUCCESS: 3 rules found/);
    // The example's rules, too.
    const example = join(dir, 'example-rules.yml');
    expect(run(['alerts', EXAMPLE, '--prometheus', example]).code).toBe(0);
    expect(execFileSync('promtool', ['check', 'rules', example], { encoding: 'utf8' })).toMatch(/SUCCESS: 7 rules found/);
  });
});
