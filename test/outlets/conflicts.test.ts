// The combined exposition's rule for two apps' clashing families (docs/isolation.md):
// by rank (the smallest app name holding a family), whatever order the families
// were made in.

import { describe, expect, it } from 'vitest';
import { Catalog, COUNTER, MEASURE, type Metric, SAMPLE } from '../../src/model/index.js';
import { resolveConflicts } from '../../src/outlets/conflicts.js';

type Def = [app: string, name: string, kind: typeof MEASURE | typeof COUNTER | typeof SAMPLE];

/** The families made in this order, each with one live series; the left-out ones as `app name`. */
function losers(defs: Def[]): string[] {
  const c = new Catalog();
  for (const [app, name, kind] of defs) {
    const m = c.metric(name, kind, ['source'], '', app) as Metric;
    m.series = 1;
  }
  const r = resolveConflicts(c.families());
  return r.conflicts.map((x) => `${x.metric.app} ${x.metric.name}`).sort();
}

const orders = (defs: Def[]): Def[][] => [defs, [...defs].reverse(), [defs[1], defs[0], ...defs.slice(2)]];

describe('clashes in the combined exposition', () => {
  it('keeps every family when none share a sample name', () => {
    expect(losers([['a', 'x', MEASURE], ['b', 'x', MEASURE], ['c', 'y', SAMPLE]])).toEqual([]);
  });

  it("leaves out the family of the app that sorts later, whatever came first", () => {
    for (const defs of orders([['b', 'x', SAMPLE], ['a', 'x', MEASURE], ['c', 'x', MEASURE]])) {
      expect(losers(defs)).toEqual(['b x']);
    }
  });

  it('resolves a chain by rank: a loser leaves no claim behind', () => {
    // b's summary x writes x_count (a's gauge, first) and x (c's gauge): b loses, so c's gauge stands.
    for (const defs of orders([['b', 'x', MEASURE], ['a', 'x_count', SAMPLE], ['c', 'x', SAMPLE]])) {
      expect(losers(defs)).toEqual(['b x']);
    }
  });

  it('never leaves out a shared platform family', () => {
    const c = new Catalog();
    const fixed = c.fixed('heroku_dyno_errors_total', COUNTER, ['dyno', 'code'], '');
    fixed.series = 1;
    expect(resolveConflicts(c.families()).conflicts).toEqual([]);
  });

  it('ignores families without a live series', () => {
    const c = new Catalog();
    (c.metric('x', MEASURE, ['source'], '', 'a') as Metric).series = 0;
    (c.metric('x', SAMPLE, ['source'], '', 'b') as Metric).series = 1;
    expect(resolveConflicts(c.families()).conflicts).toEqual([]);
  });
});
