// The hand-over stream in a real redis-server (docs/scale-out.md, "Redis as a shared
// budget"): trimmed by bytes as well as by time, its entries numbered, and a reader
// that finds a number missing (an entry trimmed before it read it) reads the totals
// back whole instead of going on without it.

import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../src/log.js';
import { type Joined, RedisLink } from '../../src/scale/redis/index.js';
import type { MergeOptions } from '../../src/scale/delta.js';
import { installed, type RedisServer, sleep, startRedis } from '../support/real.js';

const available = installed('the Redis stream tests', 'redis-server', ['redis-server', '--version']);

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
});

/** What a link hands its hub: payloads by their first byte, and how often the totals were read back. */
class Seen implements Joined {
  remotes: number[] = [];
  /** Payloads merged as totals only: the totals read back, and this receiver's queue. */
  totals: number[] = [];
  zeroed = 0;
  remote(payload: Buffer, { totals, windows }: MergeOptions): void {
    // The totals read back come as one encoded payload (no windows): not a stream entry.
    if (windows) this.remotes.push(payload[0]);
    else if (totals) this.totals.push(payload[0]);
  }
  zeroTotals(): void {
    this.zeroed++;
  }
  claimed(): void {}
}

function link(redis: RedisServer, instance: string, streamBytes: number, log: Logger = silentLogger): RedisLink {
  const l = new RedisLink({ url: redis.url, instance, retentionMs: 600_000, appTtlS: 600, streamBytes, log });
  cleanup.push(() => l.stop(Date.now() + 2_000));
  return l;
}

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !ok() && waited < ms; waited += 50) await sleep(50);
}

describe.skipIf(!available)('the hand-over stream', () => {
  it('holds at most its bytes, and a reader that misses an entry reads the totals again', async () => {
    const redis = await startRedis(['--maxmemory', '25mb', '--maxmemory-policy', 'noeviction']);
    cleanup.push(() => redis.stop());
    const BOUND = 16 * 1024;
    const a = link(redis, 'a', BOUND);
    const b = link(redis, 'b', BOUND);
    const atA = new Seen();
    const atB = new Seen();
    a.start(atA);
    b.start(atB);
    await until(() => a.ready && b.ready);
    expect(a.starting()).toBeNull();
    expect(atB.zeroed).toBe(1);

    // 40 payloads of 4 KB: 160 KB through a stream that holds 16 KB.
    for (let i = 0; i < 40; i++) a.send(Buffer.alloc(4 * 1024, i));
    await until(() => atB.remotes.length === 40 && a.pending === 0);
    expect(atB.remotes).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const held = Number(redis.cli('get', '{dm}:s:b').trim());
    expect(held).toBeLessThanOrEqual(BOUND);
    expect(Number(redis.cli('xlen', '{dm}:s').trim())).toBe(Math.floor(BOUND / (4 * 1024)));
    expect(Number(redis.cli('llen', '{dm}:s:z').trim())).toBe(Math.floor(BOUND / (4 * 1024)));

    // An entry b never read (numbered, then trimmed): b notices the gap at the next one
    // and reads the totals back whole.
    const lines: string[] = [];
    const c = link(redis, 'c', BOUND, { info: () => {}, warn: (m) => lines.push(m), error: () => {} });
    const atC = new Seen();
    c.start(atC);
    await until(() => c.ready);
    redis.cli('incr', '{dm}:s:n');
    a.send(Buffer.alloc(1024, 99));
    await until(() => atC.zeroed === 2);
    expect(atC.zeroed).toBe(2);
    expect(lines.some((l) => l.includes('trimmed before they were read'))).toBe(true);
    // And goes on reading after it.
    a.send(Buffer.alloc(1024, 100));
    await until(() => atC.remotes.includes(100));
    expect(atC.remotes).toContain(100);
  }, 60_000);

  it('sets aside a payload refused again and again with an error room cannot cure, and counts it', async () => {
    const redis = await startRedis(['--maxmemory', '25mb', '--maxmemory-policy', 'noeviction']);
    cleanup.push(() => redis.stop());
    const lines: string[] = [];
    const a = link(redis, 'a', 1 << 20, { info: () => {}, warn: () => {}, error: (m) => lines.push(m) });
    const b = link(redis, 'b', 1 << 20);
    const atB = new Seen();
    a.start(new Seen());
    b.start(atB);
    await until(() => a.ready && b.ready);
    // Another program's key of the wrong type where the script keeps its numbers:
    // WRONGTYPE every time, whatever room Redis has.
    redis.cli('set', '{dm}:q', 'not a hash');
    a.send(Buffer.alloc(64, 1));
    a.send(Buffer.alloc(64, 2));
    await until(() => a.dropped === 1, 30_000);
    expect(a.dropped).toBe(1);
    expect(a.retries).toBeGreaterThanOrEqual(8);
    expect(lines.some((l) => l.includes('set aside'))).toBe(true);
    // The one behind it is not held for ever: it goes in once the key is fixed.
    redis.cli('del', '{dm}:q');
    await until(() => atB.remotes.includes(2), 20_000);
    expect(atB.remotes).toEqual([2]);
    expect(a.dropped).toBe(1);
  }, 60_000);

  it('reads its own queue into the totals, but not a payload Redis applied before its reply was lost', async () => {
    const redis = await startRedis(['--maxmemory', '25mb', '--maxmemory-policy', 'noeviction']);
    cleanup.push(() => redis.stop());
    for (const lost of [false, true]) {
      const a = link(redis, lost ? 'lost' : 'kept', 1 << 20);
      const seen = new Seen();
      // Queued before the link reads the totals: payload 7 waits in the queue.
      a.send(Buffer.alloc(64, 7));
      // As if the script had run and its reply had been lost on the way.
      if (lost) redis.cli('hset', '{dm}:q', a.origin, '1');
      a.start(seen);
      await until(() => a.ready && a.pending === 0);
      expect(seen.totals.includes(7), lost ? 'applied already' : 'waiting').toBe(!lost);
    }
  }, 30_000);
});
