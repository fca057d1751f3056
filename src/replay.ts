// `drainmeter replay FILE --url URL`: sends a log file to a drain as logplex would,
// a load and demo tool. Lines of any docs/conventions.md format become RFC 5424 messages, framed
// in batches with Logplex-Msg-Count and one Logplex-Frame-Id per batch (kept on
// retries, so the drain can tell a retry from a new batch). 429 and 5xx are retried
// after Retry-After or a growing pause, like logplex; another 4xx drops the batch.

import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { type InputKind, inspectInput, openInput } from './input-file.js';
import { UnreachableError } from './model/errors.js';
import { FORMAT_BARE, FORMAT_SYSLOG, LineHeader, parseAnyLine } from './ingest/index.js';

export interface ReplayOptions {
  url: string;
  /** Lines per second at most (0: as fast as the drain takes them). */
  rate: number;
  /** Lines per batch. */
  batch: number;
  /** Stamp every line with the time it is sent. */
  now: boolean;
  /** Tries per batch before it counts as failed. */
  tries?: number;
}

export interface ReplayIO {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface ReplaySummary {
  lines: number;
  batches: number;
  retries: number;
  failedBatches: number;
  failedLines: number;
  seconds: number;
}

const header = new LineHeader();

/**
 * Answers no later batch will get past either: a wrong user name or password (401,
 * 403) or a wrong path (404). Said once, at the first, rather than once per batch.
 */
const REFUSALS: Record<number, string> = {
  401: 'the user name or password in --url is wrong (drainmeter token APP prints the drain URL)',
  403: 'the drain refuses these credentials (drainmeter token APP prints the drain URL)',
  404: 'no drain at this path (a drain is at /logs)',
};

/** Network errors that retrying will not fix while nothing listens or the name is wrong. */
const HOPELESS: Record<string, string> = { ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', EAI_AGAIN: 'host not found', EHOSTUNREACH: 'host unreachable' };

/** One line as an RFC 5424 message (with its LF), stamped `now` when given or when it has no time. */
export function toSyslog(line: string, now: string | null): string {
  const buf = Buffer.from(line);
  parseAnyLine(buf, 0, buf.length, header);
  // A syslog line keeps its own header unless it is restamped.
  if (header.format === FORMAT_SYSLOG && now === null) return line.endsWith('\n') ? line : `${line}\n`;
  const msg = buf.toString('utf8', header.msgStart, header.msgEnd);
  const time = now ?? (header.format === FORMAT_BARE || header.time !== header.time ? new Date().toISOString() : new Date(header.time).toISOString());
  const app = header.format === FORMAT_BARE || header.appEnd === header.appStart ? 'app' : buf.toString('utf8', header.appStart, header.appEnd);
  const proc = header.format === FORMAT_BARE || header.procEnd === header.procStart ? 'replay.1' : buf.toString('utf8', header.procStart, header.procEnd);
  return `<190>1 ${time} host ${app} ${proc} - ${msg}\n`;
}

function frame(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`;
}

async function* lines(file: string, kind: InputKind): AsyncGenerator<string> {
  let rest = '';
  const decoder = new StringDecoder('utf8');
  for await (const bytes of openInput(file, kind) as AsyncIterable<Buffer>) {
    const chunk = decoder.write(bytes);
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') yield p.replace(/\r$/, '');
  }
  if (rest.trim() !== '') yield rest;
}

async function countLines(file: string, kind: InputKind): Promise<number> {
  let n = 0;
  for await (const _ of lines(file, kind)) n++;
  return n;
}

class Progress {
  private last = 0;
  constructor(
    private readonly io: ReplayIO,
    private readonly total: number,
  ) {}

  /** `sent`: lines the drain took (not lines read: a dropped batch is not progress). */
  show(sent: number, started: number, force = false): void {
    const now = this.io.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const rate = Math.round(sent / Math.max((now - started) / 1000, 0.001));
    const frac = this.total === 0 ? 1 : sent / this.total;
    if (this.io.stderr.isTTY) {
      const width = 30;
      const done = Math.round(frac * width);
      this.io.stderr.write(`\r[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${Math.round(frac * 100)}% ${sent}/${this.total} lines ${rate} lines/s`);
      if (force) this.io.stderr.write('\n');
    } else if (force || Math.floor(frac * 10) !== Math.floor(((sent - 1) / Math.max(this.total, 1)) * 10)) {
      this.io.stderr.write(`replay: ${sent}/${this.total} lines, ${rate} lines/s\n`);
    }
  }
}

export async function replay(file: string, options: ReplayOptions, io: ReplayIO): Promise<ReplaySummary> {
  const target = new URL(options.url);
  const headers: Record<string, string> = { 'Content-Type': 'application/logplex-1', 'User-Agent': 'drainmeter-replay' };
  if (target.username !== '') {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const tries = options.tries ?? 8;
  const kind = inspectInput(file);
  const total = await countLines(file, kind);
  const progress = new Progress(io, total);
  const started = io.now();
  const summary: ReplaySummary = { lines: 0, batches: 0, retries: 0, failedBatches: 0, failedLines: 0, seconds: 0 };

  const send = async (batch: string[]): Promise<void> => {
    const stamp = options.now ? new Date(io.now()).toISOString() : null;
    const body = batch.map((l) => frame(toSyslog(l, stamp))).join('');
    const frameId = randomBytes(16).toString('hex');
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let retryAfter = NaN;
      let failure = '';
      try {
        const res = await fetch(target, {
          method: 'POST',
          headers: { ...headers, 'Logplex-Msg-Count': String(batch.length), 'Logplex-Frame-Id': frameId },
          body,
        });
        status = res.status;
        retryAfter = Number(res.headers.get('retry-after'));
        await res.arrayBuffer();
      } catch (err) {
        // The drain could not be reached: retry, and say why if it never is.
        const cause = (err as Error & { cause?: Error & { code?: string } }).cause;
        const code = cause?.code ?? '';
        failure = HOPELESS[code] ?? (code || cause?.message || (err as Error).message);
        status = 0;
        // A port fetch refuses to use (the Fetch standard's "bad port": 9, 6000, …) never works.
        if (cause?.message === 'bad port') {
          throw new UnreachableError(`cannot reach ${target.origin}: fetch refuses port ${target.port} (the Fetch standard's blocked ports); run the drain on another port`);
        }
        // Before any batch went through, a refused connection is a wrong URL or a
        // drain not started: say so now rather than after every batch's retries.
        if (summary.batches === 0 && code in HOPELESS) {
          throw new UnreachableError(`cannot reach ${target.origin}: ${failure}${code === 'ECONNREFUSED' ? ' (is drainmeter serve running there?)' : ''}`);
        }
      }
      if (status >= 200 && status < 300) {
        summary.lines += batch.length;
        summary.batches++;
        return;
      }
      if (status in REFUSALS) {
        if (io.stderr.isTTY === true && summary.batches > 0) io.stderr.write('\n'); // past the progress bar
        throw new UnreachableError(`${target.origin}${target.pathname} answered ${status}: ${REFUSALS[status]}; stopped after ${summary.lines} lines sent`);
      }
      const retry = status === 0 || status === 429 || status >= 500;
      if (!retry || attempt >= tries) {
        summary.failedBatches++;
        summary.failedLines += batch.length;
        io.stderr.write(`${io.stderr.isTTY ? '\n' : ''}replay: batch of ${batch.length} lines dropped after ${attempt} tries (last answer ${status || failure})\n`);
        return;
      }
      summary.retries++;
      await io.sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 30) * 1000 : Math.min(250 * 2 ** (attempt - 1), 5000));
    }
  };

  let batch: string[] = [];
  let read = 0;
  for await (const line of lines(file, kind)) {
    batch.push(line);
    read++;
    if (batch.length === options.batch) {
      await send(batch);
      batch = [];
      progress.show(summary.lines, started);
      if (options.rate > 0) {
        const due = started + (read / options.rate) * 1000;
        const wait = due - io.now();
        if (wait > 0) await io.sleep(wait);
      }
    }
  }
  if (batch.length > 0) await send(batch);
  progress.show(summary.lines, started, true);
  summary.seconds = (io.now() - started) / 1000;
  return summary;
}
