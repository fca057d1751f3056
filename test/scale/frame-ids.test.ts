// Frame-Ids per app (docs/limits.md): one app filling its share never pushes out another
// app's ids, and every byte an id held is given back when it goes.

import { describe, expect, it } from 'vitest';
import { Budget, FRAME_IDS, Tenant } from '../../src/model/index.js';
import { FRAME_ID_BYTES, FRAME_ID_TTL_MS, FrameIds } from '../../src/scale/frame-ids.js';

const cost = (id: string) => FRAME_ID_BYTES + id.length;

describe('FrameIds', () => {
  it("keeps another app's ids however many ids one app sends", () => {
    const budget = new Budget(FRAME_IDS, 100 * cost('id-0000'), 10 * cost('id-0000'));
    const ids = new FrameIds(budget, () => 0);
    const victim = new Tenant('victim');
    const hog = new Tenant('hog');
    ids.add(victim, 'id-v001');
    for (let i = 0; i < 10_000; i++) ids.add(hog, `id-${String(i).padStart(4, '0')}`);
    expect(ids.has(victim, 'id-v001')).toBe(true);
    // The hog keeps its newest ten, in its own share.
    expect(hog.held[FRAME_IDS]).toBe(10 * cost('id-0000'));
    expect(ids.has(hog, 'id-9999')).toBe(true);
    expect(ids.has(hog, 'id-9989')).toBe(false);
  });

  it('remembers a long id by its digest, at a fixed cost', () => {
    const budget = new Budget(FRAME_IDS, 1e9, 1e9);
    const ids = new FrameIds(budget, () => 0);
    const app = new Tenant('a');
    const long = 'x'.repeat(15_000);
    ids.add(app, long);
    expect(ids.has(app, long)).toBe(true);
    expect(ids.has(app, long.slice(1))).toBe(false);
    expect(app.held[FRAME_IDS]).toBe(FRAME_ID_BYTES + 43);
  });

  it('gives every byte back when ids expire, and forgets empty apps', () => {
    const clock = { now: 1_000 }; // lru-cache takes a start time of 0 as none
    const budget = new Budget(FRAME_IDS, 1e9, 1e9);
    const ids = new FrameIds(budget, () => clock.now);
    const app = new Tenant('a');
    for (let i = 0; i < 100; i++) ids.add(app, `id-${i}`);
    ids.add(app, 'id-1'); // again: no second charge
    expect(budget.used).toBe(app.held[FRAME_IDS]);
    clock.now += FRAME_ID_TTL_MS + 1;
    ids.purge();
    expect(app.held[FRAME_IDS]).toBe(0);
    expect(budget.used).toBe(0);
    expect(ids.apps).toBe(0);
  });
});
