// The alert rules file (docs/alerts.md): YAML with `notify:` (named notifiers) and
// `alerts:` (rules). Read and validated once, at start or by `drainmeter check`: a
// bad file is a ConfigError whose message is one line naming the rule and the field.

import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { ConfigError } from '../options.js';

/** The YAML parser, loaded when a rules file is read: not by every command (cli.ts, start-up). */
function yaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}

export const STATS = ['mean', 'min', 'max', 'count', 'sum', 'rate', 'last'] as const;
export const NOTIFIER_KINDS = ['slack', 'webhook', 'pagerduty', 'alertmanager'] as const;
export type NotifierKind = (typeof NOTIFIER_KINDS)[number];
export const KINDS = ['measure', 'counter', 'sample'] as const;

/** A label matcher of `where:`: `web.1` (equal), `~web\..*` (a regex, anchored), either after `!` (not). */
export interface Matcher {
  label: string;
  /** As written in the file. */
  text: string;
  negate: boolean;
  /** Equal to this, when not a regex. */
  equal: string | null;
  regex: RegExp | null;
}

export interface Rule {
  name: string;
  /** One app, or null: every app, one alert each. */
  app: string | null;
  metric: string;
  where: Matcher[];
  /** A share: the stat of the series `where` matches over that of the series `of` matches (each: all). */
  of: Matcher[] | null;
  /** `p99`, `mean`, …: as written. */
  stat: string;
  /** The quantile of a pNN stat (0.99), else -1. */
  q: number;
  op: 'above' | 'below' | 'absent';
  /** above/below: the number; absent: the `over` window in seconds. */
  threshold: number;
  overS: number;
  forS: number;
  rearmS: number;
  each: 'series' | 'all';
  notify: string[];
  /** The metric's kind when given (for the Prometheus export; the evaluator reads it from the series). */
  kind: (typeof KINDS)[number] | null;
  severity: 'critical' | 'error' | 'warning' | 'info';
  summary: string | null;
}

export interface Notifier {
  name: string;
  kind: NotifierKind;
  /** Where it posts. */
  url: string;
  /** PagerDuty's routing key. */
  routingKey: string;
}

export interface RuleSet {
  rules: Rule[];
  notifiers: Map<string, Notifier>;
}

const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_FIELDS = new Set(['name', 'app', 'metric', 'where', 'of', 'stat', 'above', 'below', 'absent', 'over', 'for', 'each', 'rearm', 'notify', 'kind', 'severity', 'summary']);
/** The longest `over`: what a rule keeps per series stays bounded. */
export const MAX_OVER_S = 3600;

/** Seconds of a duration: `90s`, `1m`, `1h30m`, `2d`, or a number of seconds. */
export function durationSeconds(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  if (typeof v !== 'string' || !/^(\d+[smhd])+$/.test(v)) return null;
  let s = 0;
  for (const m of v.matchAll(/(\d+)([smhd])/g)) s += Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return s;
}

/** `90` → `1m30s`: how durations are written back. */
export function durationText(s: number): string {
  if (s === 0) return '0s';
  let out = '';
  for (const [unit, n] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= n) {
      out += `${Math.floor(s / n)}${unit}`;
      s %= n;
    }
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function matchers(v: unknown, fail: (field: string, why: string) => never, field: string): Matcher[] {
  if (!isMap(v)) fail(field, 'must be a map of label: value');
  const out: Matcher[] = [];
  for (const [label, raw] of Object.entries(v)) {
    if (!LABEL.test(label) || label === 'app') fail(`${field}.${label}`, label === 'app' ? 'app is the rule\'s own field, not a matcher' : 'is not a label name');
    if (typeof raw !== 'string' && typeof raw !== 'number') fail(`${field}.${label}`, 'must be a string');
    const text = String(raw);
    const negate = text.startsWith('!');
    const body = negate ? text.slice(1) : text;
    let regex: RegExp | null = null;
    if (body.startsWith('~')) {
      try {
        regex = new RegExp(`^(?:${body.slice(1)})$`);
      } catch {
        fail(`${field}.${label}`, `is not a regular expression: ${JSON.stringify(body.slice(1))}`);
      }
    }
    out.push({ label, text, negate, equal: regex === null ? body : null, regex });
  }
  return out;
}

/** The quantile of `p99`, `p50`, `p99.9`, or -1 when `stat` is not a pNN. */
export function quantileOf(stat: string): number {
  const m = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (m === null) return -1;
  const q = Number((Number(m[1]) / 100).toPrecision(12));
  return q > 0 && q <= 1 ? q : -1;
}

function notifierOf(name: string, given: unknown): Notifier {
  const fail = (why: string): never => {
    throw new ConfigError(`notifier ${JSON.stringify(name)}: ${why}`);
  };
  if (!NAME.test(name)) fail('the name must be 1 to 128 of A-Z a-z 0-9 . _ : -');
  if (!isMap(given)) fail(`must be a map with one of ${NOTIFIER_KINDS.join(', ')}`);
  const v = given as Record<string, unknown>;
  const kinds = Object.keys(v).filter((k) => (NOTIFIER_KINDS as readonly string[]).includes(k));
  const unknown = Object.keys(v).filter((k) => !(NOTIFIER_KINDS as readonly string[]).includes(k) && k !== 'url');
  if (unknown.length > 0) fail(`unknown field ${unknown[0]} (one of ${NOTIFIER_KINDS.join(', ')}, and url for pagerduty)`);
  if (kinds.length !== 1) fail(`needs exactly one of ${NOTIFIER_KINDS.join(', ')}`);
  const kind = kinds[0] as NotifierKind;
  const value = v[kind];
  if (typeof value !== 'string' || value === '') fail(`${kind} must be a string`);
  const url = (u: string, field: string): string => {
    if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) fail(`${field} must be an http(s) URL, not ${JSON.stringify(u)}`);
    return u;
  };
  if (kind === 'pagerduty') {
    const over = v.url;
    if (over !== undefined && typeof over !== 'string') fail('url must be a string');
    return { name, kind, routingKey: value as string, url: url((over as string | undefined) ?? PAGERDUTY_URL, 'url') };
  }
  if (v.url !== undefined) fail('url is for pagerduty only (the others are their URL)');
  let target = url(value as string, kind);
  if (kind === 'alertmanager') target = `${target.replace(/\/+$/, '')}/api/v2/alerts`;
  return { name, kind, url: target, routingKey: '' };
}

function ruleOf(v: unknown, index: number, notifiers: Map<string, Notifier>, names: Set<string>): Rule {
  const label = isMap(v) && typeof v.name === 'string' ? JSON.stringify(v.name) : `#${index + 1}`;
  const fail = (field: string, why: string): never => {
    throw new ConfigError(`rule ${label}: ${field} ${why}`);
  };
  if (!isMap(v)) fail('', 'must be a map (name:, metric:, stat:, above:/below:/absent:, notify:)');
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!RULE_FIELDS.has(k)) fail(k, `is not a rule field (${[...RULE_FIELDS].join(', ')})`);
  if (typeof r.name !== 'string' || !NAME.test(r.name)) fail('name', 'must be 1 to 128 of A-Z a-z 0-9 . _ : -');
  const name = r.name as string;
  if (names.has(name)) fail('name', 'is used by an earlier rule: names must be unique');
  names.add(name);
  if (r.app !== undefined && (typeof r.app !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(r.app))) fail('app', 'must be an app name (1 to 64 of A-Z a-z 0-9 . _ -)');
  if (typeof r.metric !== 'string' || !/^[A-Za-z_:][A-Za-z0-9_:]*$/.test(r.metric)) fail('metric', 'must be a Prometheus metric name (checkout_latency_seconds, orders_total)');
  const given = ['above', 'below', 'absent'].filter((k) => r[k] !== undefined);
  if (given.length !== 1) fail(given.length === 0 ? 'above' : given[1], given.length === 0 ? 'is missing: give one of above: N, below: N or absent: true' : `and ${given[0]} are both given: give one of above, below, absent`);
  const op = given[0] as Rule['op'];
  const stat = r.stat === undefined ? (op === 'absent' ? 'count' : '') : r.stat;
  const q = typeof stat === 'string' ? quantileOf(stat) : -1;
  if (typeof stat !== 'string' || (q < 0 && !(STATS as readonly string[]).includes(stat))) {
    fail('stat', `must be pNN (p50, p99, p99.9), ${STATS.join(', ')}, not ${JSON.stringify(stat ?? null)}`);
  }
  const over = r.over === undefined ? 60 : durationSeconds(r.over);
  if (over === null || over < 10 || over > MAX_OVER_S || over % 10 !== 0) fail('over', `must be a duration, a multiple of 10s from 10s to 1h (30s, 1m, 5m), not ${JSON.stringify(r.over)}`);
  const forS = r.for === undefined ? 0 : durationSeconds(r.for);
  if (forS === null || forS > 86_400) fail('for', `must be a duration up to 24h (0s, 2m, 1h), not ${JSON.stringify(r.for)}`);
  const rearm = r.rearm === undefined ? 600 : durationSeconds(r.rearm);
  if (rearm === null || rearm > 7 * 86_400) fail('rearm', `must be a duration up to 7d (0s, 10m, 1h), not ${JSON.stringify(r.rearm)}`);
  let threshold = over as number;
  if (op === 'absent') {
    if (r.absent !== true) fail('absent', 'must be true');
  } else {
    const t = r[op];
    if (typeof t !== 'number' || !Number.isFinite(t)) fail(op, `must be a number, not ${JSON.stringify(t)}`);
    threshold = t as number;
  }
  const each = r.each ?? 'series';
  if (each !== 'series' && each !== 'all') fail('each', `must be series or all, not ${JSON.stringify(each)}`);
  const where = r.where === undefined ? [] : matchers(r.where, fail, 'where');
  const of = r.of === undefined ? null : matchers(r.of, fail, 'of');
  if (of !== null && (each !== 'all' || !['count', 'sum', 'rate'].includes(stat as string) || op === 'absent')) {
    fail('of', 'is a share: it needs each: all, stat count, sum or rate, and above or below');
  }
  const list = r.notify === undefined ? [] : typeof r.notify === 'string' ? [r.notify] : r.notify;
  if (!Array.isArray(list) || list.length === 0) fail('notify', `must name one or more notifiers (${[...notifiers.keys()].join(', ') || 'none defined under notify:'})`);
  for (const n of list as unknown[]) {
    if (typeof n !== 'string' || !notifiers.has(n)) fail('notify', `names an unknown notifier ${JSON.stringify(n)} (defined: ${[...notifiers.keys()].join(', ') || 'none'})`);
  }
  if (r.kind !== undefined && !(KINDS as readonly string[]).includes(r.kind as string)) fail('kind', `must be one of ${KINDS.join(', ')}`);
  const severity = r.severity ?? 'critical';
  if (!['critical', 'error', 'warning', 'info'].includes(severity as string)) fail('severity', 'must be critical, error, warning or info');
  if (r.summary !== undefined && typeof r.summary !== 'string') fail('summary', 'must be a string');
  return {
    name,
    app: (r.app as string | undefined) ?? null,
    metric: r.metric as string,
    where,
    of,
    stat: stat as string,
    q,
    op,
    threshold,
    overS: over as number,
    forS: forS as number,
    rearmS: rearm as number,
    each: each as Rule['each'],
    notify: [...new Set(list as string[])],
    kind: (r.kind as Rule['kind'] | undefined) ?? null,
    severity: severity as Rule['severity'],
    summary: (r.summary as string | undefined) ?? null,
  };
}

/** Parses and validates a rules file's text; ConfigError (one line) when anything is wrong. */
export function parseRules(text: string, file = 'alerts'): RuleSet {
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lines.linePos(e.pos[0]).line;
    throw new ConfigError(`${file}${line === undefined ? '' : ` line ${line}`}: not YAML: ${e.message.split('\n')[0]}`);
  }
  const top = doc.toJS() as unknown;
  const fail = (why: string): never => {
    throw new ConfigError(`${file}: ${why}`);
  };
  if (!isMap(top)) fail('must be a map with notify: and alerts:');
  const t = top as Record<string, unknown>;
  for (const k of Object.keys(t)) if (k !== 'notify' && k !== 'alerts') fail(`unknown top-level field ${k} (notify, alerts)`);
  const notifiers = new Map<string, Notifier>();
  if (t.notify !== undefined) {
    if (!isMap(t.notify)) fail('notify: must be a map of name: { slack|webhook|pagerduty|alertmanager: … }');
    for (const [name, v] of Object.entries(t.notify as Record<string, unknown>)) notifiers.set(name, inFile(file, () => notifierOf(name, v)));
  }
  if (!Array.isArray(t.alerts)) fail('alerts: must be a list of rules');
  const names = new Set<string>();
  const rules = (t.alerts as unknown[]).map((r, i) => inFile(file, () => ruleOf(r, i, notifiers, names)));
  return { rules, notifiers };
}

/** `f()`, its ConfigError prefixed with the file's name. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}

/** True when the series' label values meet every matcher (a label the series lacks is ''). */
export function matches(ms: readonly Matcher[], value: (label: string) => string): boolean {
  for (const m of ms) {
    const v = value(m.label);
    const hit = m.regex !== null ? m.regex.test(v) : v === m.equal;
    if (hit === m.negate) return false;
  }
  return true;
}
