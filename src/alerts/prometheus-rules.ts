// `drainmeter alerts --prometheus FILE`: the same rules as Prometheus alerting rules
// over drainmeter's exposition (docs/alerts.md): a measure is a summary (quantile
// label over DRAINMETER_QUANTILE_WINDOW, `_sum`, `_count`), a counter `NAME_total`,
// a sample a gauge. Each rule says in its `mapping` annotation whether PromQL gives
// the same number or an approximation, and why; a rule PromQL cannot express is
// left out with a comment.

import { stringify } from 'yaml';
import { durationText, type Matcher, type Rule, type RuleSet } from './rules.js';

export interface ExportOptions {
  /** DRAINMETER_QUANTILES: the summary's quantile labels. */
  quantiles: readonly number[];
  /** DRAINMETER_QUANTILE_WINDOW, seconds. */
  quantileWindow: number;
}

type Kind = 'measure' | 'counter' | 'sample';

/** The kind a rule's metric has: given, or told by its name and stat. */
export function kindOf(r: Rule): Kind {
  if (r.kind !== null) return r.kind;
  if (r.metric.endsWith('_total')) return 'counter';
  if (r.stat === 'last') return 'sample';
  return 'measure';
}

function quote(v: string): string {
  return JSON.stringify(v);
}

function matcherText(m: Matcher): string {
  const op = m.regex !== null ? (m.negate ? '!~' : '=~') : m.negate ? '!=' : '=';
  const value = m.regex !== null ? m.text.slice(m.negate ? 2 : 1) : (m.equal as string);
  return `${m.label}${op}${quote(value)}`;
}

function selector(name: string, r: Rule, matchers: readonly Matcher[], extra: string[] = []): string {
  const parts = [...(r.app === null ? [] : [`app=${quote(r.app)}`]), ...matchers.map(matcherText), ...extra];
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** Alert names Prometheus takes: a metric name's characters. */
function alertName(name: string): string {
  const n = name.replace(/[^A-Za-z0-9_:]/g, '_');
  return /^[A-Za-z_:]/.test(n) ? n : `_${n}`;
}

interface Mapped {
  expr: string;
  /** '' when exact; else what differs. */
  approx: string;
}

function qLabel(q: number): string {
  return String(q);
}

function mapRule(r: Rule, o: ExportOptions): Mapped | string {
  const kind = kindOf(r);
  const over = durationText(r.overS);
  const all = r.each === 'all';
  const agg = (op: string, e: string) => (all ? `${op} by (app) (${e})` : e);
  const cmp = r.op === 'above' ? `> ${r.threshold}` : `< ${r.threshold}`;
  const base = kind === 'counter' && !r.metric.endsWith('_total') ? `${r.metric}_total` : r.metric;
  const counted = kind === 'measure' ? `${base}_count` : base;
  if (r.op === 'absent') {
    if (kind === 'sample') {
      return { expr: `${agg('max', `changes(${selector(base, r, r.where)}[${over}])`)} == 0${r.app === null ? '' : ` or absent_over_time(${selector(base, r, r.where)}[${over}])`}`, approx: 'a gauge that repeats one value looks absent; lines are not visible in the exposition' };
    }
    const quiet = `${agg('sum', `increase(${selector(counted, r, r.where)}[${over}])`)} == 0`;
    return { expr: r.app === null ? quiet : `${quiet} or absent_over_time(${selector(counted, r, r.where)}[${over}])`, approx: '' };
  }
  if (r.of !== null) {
    if (kind === 'sample') return 'a share of a sample\'s lines is not in the exposition';
    const f = r.stat === 'rate' || r.stat === 'count' || r.stat === 'sum' ? 'increase' : 'increase';
    const num = kind === 'measure' && r.stat === 'sum' ? `${base}_sum` : counted;
    return { expr: `sum by (app) (${f}(${selector(num, r, r.where)}[${over}])) / sum by (app) (${f}(${selector(num, r, r.of)}[${over}])) ${cmp}`, approx: '' };
  }
  const window = r.overS === o.quantileWindow ? '' : `the summary's quantiles cover DRAINMETER_QUANTILE_WINDOW (${o.quantileWindow}s), not ${over}`;
  const merged = all ? 'quantiles of several series do not merge in PromQL: the largest series\' is taken' : '';
  const note = (...why: string[]) => why.filter((w) => w !== '').join('; ');
  if (kind === 'measure') {
    const q = r.q >= 0 ? r.q : r.stat === 'min' ? 0 : r.stat === 'max' ? 1 : -1;
    if (q >= 0) {
      if (!o.quantiles.includes(q)) return `quantile ${q} is not in DRAINMETER_QUANTILES (${o.quantiles.join(',')}): add it, or use a native-histogram store`;
      return { expr: `${agg(r.stat === 'min' ? 'min' : 'max', selector(base, r, r.where, [`quantile=${quote(qLabel(q))}`]))} ${cmp}`, approx: note(window, merged) };
    }
    if (r.stat === 'mean') return { expr: `${agg('sum', `rate(${selector(`${base}_sum`, r, r.where)}[${over}])`)} / ${agg('sum', `rate(${selector(`${base}_count`, r, r.where)}[${over}])`)} ${cmp}`, approx: '' };
    if (r.stat === 'count') return { expr: `${agg('sum', `increase(${selector(counted, r, r.where)}[${over}])`)} ${cmp}`, approx: 'increase() extrapolates to the range edges' };
    if (r.stat === 'sum') return { expr: `${agg('sum', `increase(${selector(`${base}_sum`, r, r.where)}[${over}])`)} ${cmp}`, approx: 'increase() extrapolates to the range edges' };
    if (r.stat === 'rate') return { expr: `${agg('sum', `rate(${selector(counted, r, r.where)}[${over}])`)} ${cmp}`, approx: 'rate() extrapolates to the range edges' };
    return 'a measure\'s last value is not in the exposition';
  }
  if (kind === 'counter') {
    if (r.stat === 'rate') return { expr: `${agg('sum', `rate(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: 'rate() extrapolates to the range edges' };
    if (r.stat === 'count' || r.stat === 'sum') return { expr: `${agg('sum', `increase(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: 'increase() extrapolates to the range edges' };
    return `a counter's per-window ${r.stat} is not in the exposition (only its total)`;
  }
  const scrapes = 'over the scraped values, not each window\'s';
  if (r.stat === 'last') return { expr: `${agg('max', `last_over_time(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: '' };
  if (r.stat === 'min') return { expr: `${agg('min', `min_over_time(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: scrapes };
  if (r.stat === 'max') return { expr: `${agg('max', `max_over_time(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: scrapes };
  if (r.stat === 'mean') return { expr: `${agg('avg', `avg_over_time(${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: scrapes };
  if (r.q >= 0) return { expr: `${agg('max', `quantile_over_time(${r.q}, ${selector(base, r, r.where)}[${over}])`)} ${cmp}`, approx: scrapes };
  return `a sample's ${r.stat} counts lines, which are not in the exposition`;
}

/** The rules as a Prometheus rules file (YAML), and the names of those left out. */
export function prometheusRules(set: RuleSet, o: ExportOptions): { text: string; skipped: string[] } {
  const rules: unknown[] = [];
  const skipped: string[] = [];
  const comments: string[] = [];
  for (const r of set.rules) {
    const m = mapRule(r, o);
    if (typeof m === 'string') {
      skipped.push(r.name);
      comments.push(`# ${r.name}: left out: ${m}`);
      continue;
    }
    rules.push({
      alert: alertName(r.name),
      expr: m.expr,
      ...(r.forS > 0 ? { for: durationText(r.forS) } : {}),
      labels: { severity: r.severity, drainmeter_rule: r.name },
      annotations: {
        summary: `${r.name}: ${r.metric} ${r.op === 'absent' ? 'absent' : `${r.of === null ? r.stat : `share of ${r.stat}`} ${r.op} ${r.threshold}`} over ${durationText(r.overS)}${r.summary === null ? '' : ` (${r.summary})`}`,
        value: '{{ $value }}',
        mapping: m.approx === '' ? 'exact' : `approximate: ${m.approx}`,
      },
    });
  }
  const head = ['# Prometheus alerting rules written by `drainmeter alerts --prometheus` (docs/alerts.md).', ...comments].join('\n');
  return { text: `${head}\n${stringify({ groups: [{ name: 'drainmeter', rules }] }, { lineWidth: 0 })}`, skipped };
}
