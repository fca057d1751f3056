// What every notifier says of a transition: the one-line summary and the times.

import type { Transition } from '../evaluator.js';

export function iso(epochS: number): string {
  return new Date(epochS * 1000).toISOString();
}

/** `{dyno="web.1"}`, or '' without labels. */
export function labelText(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function num(v: number | null): string {
  if (v === null) return 'never seen';
  return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, '');
}

/** The stat as notifications name it: `p99`, `rate`, or `absent`. */
export function statName(t: Transition): string {
  return t.rule.op === 'absent' ? 'absent' : t.rule.stat;
}

/** `slow-checkout firing: shop checkout_latency_seconds{source="web.1"} p99 0.73 above 0.5 over 1m`. */
export function summary(t: Transition): string {
  const r = t.rule;
  const what = `${t.app} ${r.metric}${labelText(t.labels)}`;
  const cond =
    r.op === 'absent'
      ? t.value === null
        ? `no line ever seen (absent for ${r.overS}s)`
        : `no line for ${t.value}s (absent: ${r.overS}s)`
      : `${r.of === null ? r.stat : `share of ${r.stat}`} ${num(t.value)}, ${t.state === 'firing' ? '' : 'no longer '}${r.op} ${num(r.threshold)} over ${r.overS}s`;
  return `${r.name} ${t.state}: ${what} ${cond}${r.summary === null ? '' : ` (${r.summary})`}`;
}
