// A hand-over bounded in bytes with a share per app (docs/scale-out.md, "Redis as a
// shared budget"): one app churning thousands of series gets its share of each
// payload, the others are handed over whole at once, and nothing waits for ever or
// is lost: merged, the payloads hold every count the lines made (counted here from
// the lines themselves).

import { describe, expect, it } from 'vitest';
import { type Pipeline, pipeline } from '../../src/pipeline.js';
import { exportDelta, mergeDelta } from '../../src/scale/delta.js';
import { HandOverShare } from '../../src/scale/hand-over.js';
import { config, feed, T0 } from '../server/helpers.js';


/** Every counter total of an app in the view, by source. */
function totals(p: Pipeline, app: string): Map<string, number> {
  const out = new Map<string, number>();
  const a = p.aggregator.apps.get(app);
  if (a !== undefined) for (const s of a.each()) out.set(s.label1, (out.get(s.label1) ?? 0) + s.count);
  return out;
}

describe('the hand-over share', () => {
  it('gives a churning app its share of each payload, the victim all of its own, and loses nothing', () => {
    const cfg = config({ DRAINMETER_MAX_SERIES_PER_APP: '20000' });
    const part = pipeline(cfg, T0, { exporting: true });
    const view = pipeline({ ...cfg, grace: cfg.grace + 1 }, T0);
    const share = new HandOverShare(16 * 1024, 4 * 1024);
    const sent = new Map<string, number>();
    const victimSent = new Map<string, number>();
    const sizes: number[] = [];
    let t = T0;
    let victimLate = 0;
    for (let round = 0; round < 120; round++) {
      t += 250;
      const stamp = new Date(t).toISOString();
      // 2,000 series, each counted every round; the first 200 twice (churn that would
      // starve the rest were the first always taken first).
      const churn: string[] = [];
      for (let i = 0; i < 2_000; i++) {
        const k = i < 200 ? 2 : 1;
        churn.push(`${stamp} app[web.1]: count#churn=${k} source=s${i}`);
        sent.set(`s${i}`, (sent.get(`s${i}`) ?? 0) + k);
      }
      feed(part, 'churn', churn, t);
      const victim = [`${stamp} app[web.1]: count#orders=${round + 1} source=v1`, `${stamp} app[web.1]: count#orders=1 source=v2`];
      victimSent.set('v1', (victimSent.get('v1') ?? 0) + round + 1);
      victimSent.set('v2', (victimSent.get('v2') ?? 0) + 1);
      feed(part, 'victim', victim, t);
      const payload = exportDelta(part.aggregator, part.outlet.requests, { share });
      expect(payload).not.toBeNull();
      sizes.push((payload as Buffer).length);
      view.aggregator.advance(t);
      mergeDelta({ aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests }, payload as Buffer);
      // The victim's changes are in the very hand-over after its lines.
      if (JSON.stringify([...totals(view, 'victim')]) !== JSON.stringify([...victimSent])) victimLate++;
      expect(share.waitingSeries).toBeGreaterThan(0);
      expect(share.waitingApps).toEqual(['churn']);
    }
    expect(victimLate).toBe(0);
    // Every churning series was handed over while the churn went on: what waited went first.
    expect(totals(view, 'churn').size).toBe(2_000);
    // Every payload within the total and a series more (a series is well under 200 bytes here).
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024 + 200);
    // Then hand-overs until nothing waits: every line of the churn is in the view, none twice.
    let more = 0;
    do {
      const payload = exportDelta(part.aggregator, part.outlet.requests, { share });
      if (payload !== null) mergeDelta({ aggregator: view.aggregator, catalog: view.catalog, requests: view.outlet.requests }, payload);
      more++;
    } while (share.waitingSeries > 0 && more < 10_000);
    expect(share.waitingSeries).toBe(0);
    expect(totals(view, 'churn')).toEqual(sent);
    expect(totals(view, 'victim')).toEqual(victimSent);
  });
});
