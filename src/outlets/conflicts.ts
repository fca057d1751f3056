// Two apps' families in the combined exposition (docs/isolation.md, "Kinds and
// platform families"). Kinds are per app, so app A's summary `x` (which writes
// `x_sum`, `x_count`) and app B's gauge `x` or `x_count` may both be live; one
// exposition cannot hold both. The rule, the same in every process for the same
// live families: a family's rank is the smallest name among the apps holding a series
// of it (a shared platform family ranks first); families are taken by rank, and one
// whose sample names a family taken before writes is left out. The losing app's
// scrape, pushes and dashboard are untouched: only the combined exposition leaves
// those series out, counts them in drainmeter_exposition_conflicts{app,metric}, and
// says so in the log.

import { claimedNames, KIND_NAMES, type Kind, type Metric, SHARED } from '../model/index.js';

/** One app's family left out of the combined exposition. */
export interface Conflict {
  metric: Metric;
  /** The family that took its place, and the app that ranked it first. */
  winner: Metric;
  winnerApp: string;
}

export interface Resolution {
  /** Families the combined exposition leaves out. */
  losers: Set<Metric>;
  conflicts: Conflict[];
}

/** One name and kind, over every app's family of it. */
interface Variant {
  name: string;
  kind: Kind;
  /** The smallest app name holding it ('' for a shared family). */
  rank: string;
  metrics: Metric[];
  contested: boolean;
}

export const NO_CONFLICTS: Resolution = { losers: new Set(), conflicts: [] };

/**
 * Resolves the clashes among the live families (those with a series). Costs a few
 * map entries per live family: a scrape writes at least one line for each.
 */
export function resolveConflicts(families: Iterable<ReadonlySet<Metric>>): Resolution {
  const byName = new Map<string, Variant>();
  const variants: Variant[] = [];
  const owner = new Map<string, Variant>();
  let contested = 0;
  for (const same of families) {
    for (const m of same) {
      if (m.series === 0) continue;
      const key = `${m.kind} ${m.name}`;
      let v = byName.get(key);
      if (v === undefined) {
        v = { name: m.name, kind: m.kind, rank: m.app, metrics: [], contested: false };
        byName.set(key, v);
        variants.push(v);
        for (const c of claimedNames(m.name, m.kind)) {
          const other = owner.get(c);
          if (other === undefined) owner.set(c, v);
          else {
            if (!other.contested) contested++;
            if (!v.contested) contested++;
            other.contested = v.contested = true;
          }
        }
      }
      v.metrics.push(m);
      if (m.app === SHARED || m.app < v.rank) v.rank = m.app;
    }
  }
  if (contested === 0) return NO_CONFLICTS;
  const open = variants.filter((v) => v.contested).sort(byRank);
  const taken = new Map<string, Variant>();
  for (const v of variants) if (!v.contested) for (const c of claimedNames(v.name, v.kind)) taken.set(c, v);
  const losers = new Set<Metric>();
  const conflicts: Conflict[] = [];
  for (const v of open) {
    let winner: Variant | undefined;
    for (const c of claimedNames(v.name, v.kind)) {
      winner = taken.get(c);
      if (winner !== undefined) break;
    }
    if (winner === undefined) {
      for (const c of claimedNames(v.name, v.kind)) taken.set(c, v);
      continue;
    }
    for (const m of v.metrics) {
      losers.add(m);
      conflicts.push({ metric: m, winner: winner.metrics[0], winnerApp: winner.rank });
    }
  }
  return { losers, conflicts };
}

function byRank(a: Variant, b: Variant): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.kind - b.kind;
}

/** The log line's fields for a conflict. */
export function conflictFields(c: Conflict): Record<string, string> {
  return {
    app: c.metric.app,
    metric: c.metric.name,
    kind: KIND_NAMES[c.metric.kind],
    winner_app: c.winnerApp,
    winner: c.winner.name,
    winner_kind: KIND_NAMES[c.winner.kind],
  };
}
