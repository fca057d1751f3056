// A plain webhook: one JSON object per transition, exactly these fields
// (docs/alerts.md): alert, app, labels, state, value, threshold, stat, since.

import type { Transition } from '../evaluator.js';
import { iso, statName } from './text.js';

export function webhookBody(t: Transition): unknown {
  return {
    alert: t.rule.name,
    app: t.app,
    labels: t.labels,
    state: t.state,
    value: t.value,
    threshold: t.rule.threshold,
    stat: statName(t),
    since: iso(t.since),
  };
}
