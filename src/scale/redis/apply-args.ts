// What APPLY (scripts.ts) is given for one payload: the hub's merge walks the payload
// with `visitor`, which gathers its definitions by kind and name, its request counts,
// and per app its groups (the app's own counts under '', then one per metric); `take`
// turns them into the script's keys and arguments.

import { REASONS } from '../../model/index.js';
import type { TotalsVisitor } from '../delta.js';
import { encodeDef } from '../kinds.js';
import { APPS, appKey, defsKey, REQUESTS, SEQS, STREAM } from './keys.js';
import type { Item } from './queue.js';

/** One metric's fields of a payload for an app's hash, under the app's definition of it. */
interface Group {
  def: string;
  /** Observations: type_conflict when the app's definition is of another kind. */
  n: number;
  fields: string[];
}

export class ApplyArgs {
  readonly visitor: TotalsVisitor;
  private defs = new Map<string, string>();
  private requests: string[] = [];
  private apps = new Map<string, Map<string, Group>>();
  private current = new Map<string, Group>();

  constructor() {
    this.visitor = {
      metric: (name, kind, labels, help) => this.defs.set(`${kind} ${name}`, encodeDef({ app: '', name, kind, labels, help })),
      request: (route, status, n) => this.requests.push(`${route} ${status}`, String(n)),
      app: (name, lines, late, duplicates) => {
        let groups = this.apps.get(name);
        if (groups === undefined) this.apps.set(name, (groups = new Map([['', { def: '', n: 0, fields: [] }]])));
        this.current = groups;
        const fields = (groups.get('') as Group).fields;
        if (lines !== 0) fields.push('i', '["lines"]', String(lines));
        if (late !== 0) fields.push('i', '["late"]', String(late));
        if (duplicates !== 0) fields.push('i', '["duplicates"]', String(duplicates));
      },
      rejected: (reason, n) => (this.current.get('') as Group).fields.push('i', JSON.stringify(['rejected', REASONS[reason]]), String(n)),
      series: (metric, kind, l1, l2, res, count, sum, lastTime, last, observed) => {
        const id = JSON.stringify([kind, metric, l1, l2, res]).slice(1, -1);
        let group = this.current.get(metric);
        if (group === undefined) this.current.set(metric, (group = { def: this.defs.get(`${kind} ${metric}`) ?? '', n: 0, fields: [] }));
        group.n += observed;
        const f = group.fields;
        if (count !== 0 && Number.isFinite(count)) f.push('i', `[${id},"count"]`, String(count));
        if (sum !== 0 && Number.isFinite(sum)) f.push('i', `[${id},"sum"]`, String(sum));
        if (lastTime !== -Infinity) f.push('g', `[${id},"last"]`, `${lastTime} ${last}`);
      },
    };
  }

  /** The payload the visitor just saw, as the origin's payload `seq`, with APPLY's keys and arguments; forgets what it saw. */
  take(origin: string, seq: number, payload: Buffer, retentionMs: number, appTtlS: number): Item {
    const keys = [STREAM, SEQS, REQUESTS, APPS];
    const args: (string | Buffer)[] = [origin, String(seq), payload, String(retentionMs), String(appTtlS)];
    // Loops, not spreads: a payload of 100,000 series is 600,000 arguments.
    const append = (list: string[]) => {
      for (const x of list) args.push(x);
    };
    args.push(String(this.requests.length / 2));
    append(this.requests);
    let bytes = payload.length;
    for (const [app, groups] of this.apps) {
      keys.push(appKey(app), defsKey(app));
      args.push(app, String(groups.size));
      for (const [name, g] of groups) {
        args.push(name, g.def, String(g.n), String(g.fields.length / 3));
        append(g.fields);
        bytes += name.length + g.def.length;
        for (const f of g.fields) bytes += f.length;
      }
    }
    this.discard();
    return { seq, payload, keys, args, bytes };
  }

  /** Forgets what the visitor saw of a payload (taken, or refused). */
  discard(): void {
    this.defs = new Map();
    this.requests = [];
    this.apps = new Map();
  }
}
