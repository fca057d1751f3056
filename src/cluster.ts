// `drainmeter serve` beyond one process (docs/scale-out.md). With DRAINMETER_WORKERS > 1 the
// primary forks the workers, which share the port (node:cluster) and take the drains;
// the primary holds the hub: the merged view every worker's /metrics shows (asked
// for over IPC), the Frame-Ids of the dyno, the push outlets, and the Redis link.
// With one worker and Redis, the hub runs in the serving process itself.
// The process wiring, at the top beside cli.ts: it starts `serve` (server/) with a
// Receiver (scale/receiver.ts) around the hub (scale/); scale/ never imports server/.

import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Tenant } from './model/index.js';
import type { HistoryQuery } from './outlets/history/index.js';
import type { LookWhat } from './outlets/look.js';
import type { Rendering } from './outlets/prometheus.js';
import { openStore } from './history/index.js';
import { HAND_OVER_MS, Hub } from './scale/hub.js';
import { defOf, forceKind, type KindDef } from './scale/kinds.js';
import type { Receiver } from './scale/receiver.js';
import { RedisLink } from './scale/redis/index.js';
import { type Running, serve } from './server/serve.js';

/** A worker's question waits at most this for the primary, then the worker decides alone, ms. */
export const ASK_TIMEOUT_MS = 250;
/** A scrape waits at most this for the primary's rendering, ms. */
const SCRAPE_TIMEOUT_MS = 30_000;
const SWEEP_MS = 10_000;
/** Heroku kills a dyno 30 s after SIGTERM. */
const STOP_DEADLINE_MS = 28_000;

type ToPrimary =
  | { t: 'delta'; b: Uint8Array }
  | { t: 'kind'; d: KindDef }
  | { t: 'waiting'; series: number }
  | { t: 'hello' }
  | { t: 'claim'; n: number; app: string; id: string }
  | { t: 'scrape'; n: number; scope: string | null; om: boolean }
  | { t: 'look'; n: number; what: LookWhat; q: HistoryQuery }
  | { t: 'release'; app: string; time: number; text: string };
type ToWorker = { t: 'kind'; n?: undefined; d: KindDef } | { t: 'ready'; n: -1 } | { t: 'claimed'; n: number; ok: boolean } | { t: 'looked'; n: number; json: string } | { t: 'rendered'; n: number; contentType: string; chunks: Uint8Array[] } | { t: 'failed'; n: number; error: string };

export function scaledOut(config: Config): boolean {
  return config.workers > 1 || config.redisUrl !== '' || config.history.databaseUrl !== '';
}

async function hubFor(config: Config, log: Logger): Promise<Hub> {
  const store = await openStore(config.history, config.instance, log);
  const hub = new Hub(config, log, Date.now, config.redisUrl !== '', store);
  const out = hub.view.outlet;
  out.extra.push(
    { name: 'drainmeter_workers', help: 'Worker processes taking drains in this dyno.', type: 'gauge', value: () => config.workers },
    { name: 'drainmeter_handover_waiting_series', help: "Series whose changes wait for a later hand-over: their app's share of one was full.", type: 'gauge', value: () => hub.waitingSeries },
  );
  if (store !== null) {
    const s = store.stats;
    out.extra.push(
      { name: 'drainmeter_history_up', help: "1 while the history's database takes writes, else 0 (steps wait in memory).", type: 'gauge', value: () => (s.up ? 1 : 0) },
      { name: 'drainmeter_history_queue_bytes', help: 'Bytes of closed steps waiting for the database.', type: 'gauge', value: () => s.queueBytes },
      { name: 'drainmeter_history_written_steps_total', help: 'Closed steps of series written to the database by this receiver.', type: 'counter', value: () => s.written },
      { name: 'drainmeter_history_dropped_steps_total', help: 'Closed steps dropped from a full queue while the database was away.', type: 'counter', value: () => s.dropped },
      { name: 'drainmeter_history_refused_series_total', help: "Series the database's history refused: their app's DRAINMETER_HISTORY_SERIES_PER_APP is used up.", type: 'counter', value: () => s.refused },
    );
  }
  if (config.redisUrl !== '') {
    const link = new RedisLink({
      url: config.redisUrl,
      instance: config.instance,
      retentionMs: (config.quantileWindow + config.grace + config.resolution + 10) * 1000,
      appTtlS: config.seriesTtl,
      log,
    });
    hub.redis = link;
    out.extra.push(
      { name: 'drainmeter_redis_up', help: '1 while Redis takes and gives payloads, else 0 (this receiver works alone and catches up).', type: 'gauge', value: () => (link.up ? 1 : 0) },
      { name: 'drainmeter_redis_pending_payloads', help: "This receiver's payloads waiting for Redis.", type: 'gauge', value: () => link.pending },
      { name: 'drainmeter_redis_pending_bytes', help: "Bytes of this receiver's payloads waiting for Redis.", type: 'gauge', value: () => link.pendingBytes },
      { name: 'drainmeter_redis_retries_total', help: 'Payload writes tried again: Redis refused them (out of memory, read-only, loading, any error) or did not answer.', type: 'counter', value: () => link.retries },
      { name: 'drainmeter_redis_dropped_payloads_total', help: 'Payloads dropped: the queue waiting for Redis was full, or Redis refused one for good.', type: 'counter', value: () => link.dropped },
      { name: 'drainmeter_redis_frame_ids_local_total', help: "Frame-Ids decided by this receiver alone: their app's share of Redis (or the total) was full.", type: 'counter', value: () => link.frameIdsLocal },
      { name: 'drainmeter_redis_synced', help: '1 once this receiver has read the global totals from Redis; 0 while it shows its own lines only (Redis not reached at start).', type: 'gauge', value: () => (link.totalsRead ? 1 : 0) },
    );
    link.start({ remote: (p, parts) => hub.applyRemote(p, parts), zeroTotals: () => hub.zeroTotals(), claimed: (d) => hub.remoteClaim(d) });
  }
  return hub;
}

function timers(hub: Hub, log: Logger): () => void {
  const tick = setInterval(() => hub.tick(), HAND_OVER_MS);
  const sweep = setInterval(() => {
    const gone = hub.sweep();
    if (gone.series > 0 || gone.apps > 0) log.info('expired', { series: gone.series, apps: gone.apps, live: hub.view.aggregator.seriesCount });
  }, SWEEP_MS);
  tick.unref();
  sweep.unref();
  return () => {
    clearInterval(tick);
    clearInterval(sweep);
  };
}

/** Starts serving as the configuration asks; resolves with a stop(). */
export async function serveScaled(config: Config, log: Logger): Promise<{ stop(reason: string): Promise<void> }> {
  if (cluster.isWorker) return worker(config, log);
  const hub = await hubFor(config, log);
  const stopTimers = timers(hub, log);
  if (config.workers === 1) {
    const receiver: Receiver = {
      frames: { claim: (t: Tenant, id: string) => hub.claim(t.name, id) },
      render: (scope, om) => hub.render(scope, om),
      look: hub.look,
      handOver: (p) => hub.apply(p),
      waiting: (series) => hub.waiting.set(0, series),
      starting: () => hub.starting(),
      release: (app, time, text) => hub.release(app, time, text),
      stop: async (deadline) => {
        stopTimers();
        await hub.stop(deadline);
      },
    };
    const running = await serve(config, log, undefined, receiver);
    // Kinds (scale/kinds.ts): each claim to the hub as it is made; a lost one is forced once the body is read.
    const parts = running.parts;
    parts.catalog.onClaim = (m) => {
      const stands = hub.claimKind(defOf(m));
      if (stands !== null) queueMicrotask(() => forceKind(parts, stands));
    };
    hub.onForce = (d) => forceKind(parts, d);
    return running;
  }
  return primary(config, log, hub, stopTimers);
}

function primary(config: Config, log: Logger, hub: Hub, stopTimers: () => void): { stop(reason: string): Promise<void> } {
  cluster.setupPrimary({ serialization: 'advanced' });
  let stopping = false;
  const answer = (w: Worker, m: ToWorker) => {
    if (w.isConnected()) w.send(m);
  };
  // Workers are not ready until the hub is (the totals read from Redis): told once.
  let ready = hub.starting() === null;
  if (!ready) {
    const poll = setInterval(() => {
      if (hub.starting() !== null) return;
      clearInterval(poll);
      ready = true;
      for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) answer(w, { t: 'ready', n: -1 });
    }, 100);
    poll.unref();
  }
  const fork = () => {
    const w = cluster.fork();
    w.on('exit', () => hub.waiting.delete(w.id));
    w.on('message', (m: ToPrimary) => {
      if (m.t === 'delta') hub.apply(Buffer.from(m.b.buffer, m.b.byteOffset, m.b.byteLength));
      else if (m.t === 'kind') {
        const stands = hub.claimKind(m.d);
        if (stands !== null) answer(w, { t: 'kind', d: stands });
      }
      else if (m.t === 'waiting') hub.waiting.set(w.id, m.series);
      else if (m.t === 'hello' && ready) answer(w, { t: 'ready', n: -1 });
      else if (m.t === 'release') hub.release(m.app, m.time, m.text);
      else if (m.t === 'claim') {
        const r = hub.claim(m.app, m.id);
        if (typeof r === 'boolean') answer(w, { t: 'claimed', n: m.n, ok: r });
        else r.then((ok) => answer(w, { t: 'claimed', n: m.n, ok }));
      } else if (m.t === 'scrape') {
        hub.render(m.scope, m.om).then(
          (r) => answer(w, { t: 'rendered', n: m.n, contentType: r.contentType, chunks: r.chunks }),
          (err: Error) => answer(w, { t: 'failed', n: m.n, error: err.message }),
        );
      } else if (m.t === 'look') {
        hub.look(m.what, m.q).then(
          (json) => answer(w, { t: 'looked', n: m.n, json }),
          (err: Error) => answer(w, { t: 'failed', n: m.n, error: err.message }),
        );
      }
    });
  };
  // A kind that won elsewhere (Redis): every worker holds it.
  hub.onForce = (d) => {
    for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) answer(w, { t: 'kind', d });
  };
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    log.error('worker died, starting another', { worker: w.id, code: code ?? undefined, signal: signal ?? undefined });
    fork();
  });
  log.info('workers started', { workers: config.workers, redis: config.redisUrl !== '' });
  let stopped: Promise<void> | null = null;
  return {
    stop(reason: string) {
      stopped ??= (async () => {
        stopping = true;
        const started = Date.now();
        log.info('stopping', { reason, workers: Object.keys(cluster.workers ?? {}).length });
        // Each worker drains its requests and hands over its last lines before it exits.
        const exits = Object.values(cluster.workers ?? {}).map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w === undefined || w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        );
        await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, STOP_DEADLINE_MS - 3_000))]);
        stopTimers();
        await hub.stop(started + STOP_DEADLINE_MS);
        log.info('stopped', { series: hub.view.aggregator.seriesCount });
      })();
      return stopped;
    },
  };
}

/** A worker: serves drains, asks the primary about Frame-Ids and for /metrics, hands its lines over every tick. */
async function worker(config: Config, log: Logger): Promise<Running> {
  let next = 0;
  const waiting = new Map<number, (m: ToWorker | null) => void>();
  let running: Running | null = null;
  let starting: string | null = config.redisUrl === '' ? null : 'starting: reading totals from Redis';
  process.on('message', (m: ToWorker) => {
    if (m.t === 'ready') {
      starting = null;
      return;
    }
    if (m.t === 'kind') {
      if (running !== null) forceKind(running.parts, m.d);
      return;
    }
    const done = waiting.get(m.n);
    if (done === undefined) return;
    waiting.delete(m.n);
    done(m);
  });
  const ask = (m: ToPrimary & { n: number }, timeout: number): Promise<ToWorker | null> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(m.n);
        resolve(null);
      }, timeout);
      waiting.set(m.n, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      process.send?.(m);
    });
  // Listening now: the primary says `ready` to this hello if it is, else when it becomes so.
  if (starting !== null) process.send?.({ t: 'hello' } satisfies ToPrimary);
  const send = (m: ToPrimary): Promise<void> => new Promise((resolve) => (process.connected ? process.send?.(m, undefined, {}, () => resolve()) : resolve()));
  // Without an answer in time, the worker decides alone (its own memory of ids).
  let local: ((t: Tenant, id: string) => boolean) | null = null;
  let sent = Promise.resolve();
  let waitingNow = 0;
  const receiver: Receiver = {
    frames: {
      claim: async (t: Tenant, id: string) => {
        const r = await ask({ t: 'claim', n: next++, app: t.name, id }, ASK_TIMEOUT_MS);
        if (r !== null && r.t === 'claimed') return r.ok;
        return local === null ? true : local(t, id);
      },
    },
    render: async (scope, om): Promise<Rendering> => {
      const r = await ask({ t: 'scrape', n: next++, scope, om }, SCRAPE_TIMEOUT_MS);
      if (r === null || r.t !== 'rendered') throw new Error(r?.t === 'failed' ? r.error : 'no rendering from the primary in time');
      return { contentType: r.contentType, chunks: r.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)) };
    },
    look: async (what, q) => {
      const r = await ask({ t: 'look', n: next++, what, q }, SCRAPE_TIMEOUT_MS);
      if (r === null || r.t !== 'looked') throw new Error(r?.t === 'failed' ? r.error : 'no answer from the primary in time');
      return r.json;
    },
    handOver: (payload) => {
      sent = send({ t: 'delta', b: payload });
    },
    waiting: (series) => {
      if (series === waitingNow) return;
      waitingNow = series;
      sent = send({ t: 'waiting', series });
    },
    starting: () => starting,
    release: (app, time, text) => {
      send({ t: 'release', app, time, text });
    },
    stop: () => sent,
    fields: { worker: cluster.worker?.id ?? 0 },
  };
  running = await serve(config, log, undefined, receiver);
  // Each name an app claims goes to the primary as it is claimed (scale/kinds.ts).
  running.parts.catalog.onClaim = (m) => {
    if (process.connected) process.send?.({ t: 'kind', d: defOf(m) } satisfies ToPrimary);
  };
  const ids = running.parts.state.frameIds;
  if (ids !== null) local = (t, id) => ids.claim(t, id);
  const stop = (signal: string) => {
    running.stop(signal).then(
      () => process.disconnect(),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => {
    // The primary is gone: nobody would see these numbers.
    if (!running.parts.state.draining) process.exit(0);
  });
  return running;
}
