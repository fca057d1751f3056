// What every push outlet shares (docs/push.md): the `instance` every pushed series
// carries, the bound of a queue waiting to be sent, and the backoff between retries;
// for the HTTP ones, their URL and header options, the queue of requests, and the
// once-a-second batching.

import { hostname } from 'node:os';
import { ConfigError, type Option } from '../options.js';
import { PushStats } from './outlet.js';

export const INSTANCE: Option = {
  flag: 'instance',
  env: 'DRAINMETER_INSTANCE',
  describe: "the instance label of pushed series (default: Heroku's DYNO, else the host name)",
  default: '',
};

/** The instance of this process: DRAINMETER_INSTANCE, else DYNO (web.1), else the host name. */
export function instanceOf(values: ReadonlyMap<string, string>): string {
  const given = values.get(INSTANCE.flag) ?? '';
  if (given !== '') return given;
  const dyno = process.env.DYNO;
  return dyno !== undefined && dyno !== '' ? dyno : hostname();
}

/** Bytes a push outlet's queue may hold; past it, new data is dropped and counted. */
export const PUSH_QUEUE_BYTES = 16 * 1024 * 1024;

/** HTTP push outlets cut a request this often, ms. */
export const SEND_EVERY_MS = 1000;

/** A request failing for longer than this is dropped and counted. */
export const MAX_RETRY_MS = 5 * 60_000;

/** `text` as an http or https URL, or null. */
export function httpUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Request headers from `name=value,name=value`; `decode` URL-decodes the values (OTLP's form). `what` names the option in errors. */
export function headerPairs(text: string, what: string, { decode }: { decode: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of text === '' ? [] : text.split(',')) {
    const eq = kv.indexOf('=');
    const name = kv.slice(0, eq).trim();
    if (eq <= 0 || !/^[A-Za-z0-9-]+$/.test(name)) throw new ConfigError(`${what} must be name=value pairs separated by commas, not ${JSON.stringify(text)}`);
    const value = kv.slice(eq + 1).trim();
    try {
      out[name] = decode ? decodeURIComponent(value) : value;
    } catch {
      throw new ConfigError(`${what}: the value of ${name} is not URL-encoded`);
    }
  }
  return out;
}

const BASE_MS = 500;
const MAX_MS = 30_000;

/** The wait before retry `attempt` (0, 1, …): exponential, capped, with full jitter. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_MS, BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** How a request went: taken; to be retried; refused for good; or to be sent again at once (what it holds was changed). */
export type Outcome = 'ok' | 'retry' | 'drop' | 'again';

/** A request waiting in a PushQueue. */
export interface Pending {
  /** Bytes it holds in the queue. */
  bytes: number;
  /** Samples (points) it carries, counted as sent or dropped when it leaves. */
  samples: number;
  /** When it was queued, epoch ms; retries stop after maxRetryMs. */
  since: number;
  attempts: number;
}

export interface QueueBounds {
  queueBytes: number;
  maxRetryMs: number;
}

/**
 * The requests of an HTTP push outlet: bounded in bytes (past it, a new request is
 * dropped and counted), sent one at a time and in order (a series' samples must
 * arrive in time order), retried with backoff until maxRetryMs, then dropped and
 * counted; flush() sends what it can by a deadline and counts the rest as dropped.
 */
export class PushQueue<P extends Pending> {
  readonly items: P[] = [];
  private sending = false;
  private stopped = false;

  constructor(
    private readonly push: PushStats,
    private readonly bounds: QueueBounds,
    private readonly now: () => number,
    private readonly post: (p: P) => Promise<Outcome>,
  ) {}

  add(p: P): void {
    if (this.push.queueBytes + p.bytes > this.bounds.queueBytes) {
      this.push.dropped += p.samples;
      this.push.fail('queue_full');
      return;
    }
    this.items.push(p);
    this.push.queueBytes += p.bytes;
    void this.send();
  }

  private async send(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.items.length > 0 && !this.stopped) {
        const p = this.items[0];
        const outcome = await this.post(p);
        if (outcome === 'again') continue;
        if (outcome === 'retry' && this.now() - p.since <= this.bounds.maxRetryMs) {
          await new Promise((r) => setTimeout(r, retryDelay(p.attempts++)).unref());
          continue;
        }
        if (outcome === 'ok') this.push.samples += p.samples;
        else {
          this.push.dropped += p.samples;
          if (outcome === 'retry') this.push.fail('expired');
        }
        this.items.shift();
        this.push.queueBytes -= p.bytes;
      }
    } finally {
      this.sending = false;
    }
  }

  async flush(deadline: number): Promise<void> {
    while (this.items.length > 0 && this.now() < deadline) {
      if (!this.sending) void this.send();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    for (const p of this.items) this.push.dropped += p.samples;
    this.items.length = 0;
    this.push.queueBytes = 0;
  }
}

/** POSTs a body; the status and the first 4 KB of the answer, or the failure counted as `timeout` or `network`. */
export async function postBody(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  push: PushStats,
): Promise<{ status: number; bytes: Buffer; text: string } | null> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const bytes = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0))).subarray(0, 4096);
    if (!res.ok) push.fail(`http_${res.status}`);
    return { status: res.status, bytes, text: bytes.toString('utf8') };
  } catch (err) {
    push.fail((err as Error).name === 'TimeoutError' ? 'timeout' : 'network');
    return null;
  }
}

/**
 * An HTTP push outlet: what its windows write is cut into a request once a second
 * (cut) and sent through a PushQueue (post); flush() cuts the rest and sends by a deadline.
 */
export abstract class BatchingOutlet<P extends Pending> {
  readonly push = new PushStats();
  protected readonly queue: PushQueue<P>;
  private readonly timer: NodeJS.Timeout;

  constructor(bounds: QueueBounds, now: () => number) {
    this.queue = new PushQueue(this.push, bounds, now, (p) => this.post(p));
    this.timer = setInterval(() => this.cut(), SEND_EVERY_MS);
    this.timer.unref();
  }

  /** Turns what was written since the last cut into a request on the queue. */
  protected abstract cut(): void;

  protected abstract post(p: P): Promise<Outcome>;

  async flush(deadline: number): Promise<void> {
    clearInterval(this.timer);
    this.cut();
    await this.queue.flush(deadline);
  }
}
