// Graphite plaintext (docs/push.md), l2met style: each closed window as one line per
// statistic, `PATH VALUE TIMESTAMP`, to carbon over TCP.
//
//   PREFIX.APP.NAME[.LABEL_VALUES].STAT   (PREFIX: drainmeter.INSTANCE by default)
//
// A measure writes count, sum, min, max, mean and each quantile (`p50`, `p99_9`); a
// counter its window's sum (`sum`); a sample its last value (`last`). The timestamp is
// the window's start. Label values and the app are path segments, every character
// outside [A-Za-z0-9_:-] made `_`, so `web.1` is `web_1`.
//
// Lines wait in a queue bounded in bytes (past it, a window's lines are dropped and
// counted); the socket reconnects with backoff; a line counts as sent when the socket
// has written it. Plaintext has no acknowledgement, so lines written into a connection
// that then breaks are lost, as with every Graphite client.

import { connect, type Socket } from 'node:net';
import type { ClosedWindow } from '../aggregate/index.js';
import { COUNTER, MEASURE } from '../model/index.js';
import { ConfigError, type Option } from '../options.js';
import { defineOutlet, type Outlet, type OutletContext, PushStats } from './outlet.js';
import { INSTANCE, instanceOf, PUSH_QUEUE_BYTES, retryDelay } from './push.js';

const URL_OPTION: Option = { flag: 'graphite-url', env: 'DRAINMETER_GRAPHITE_URL', describe: 'push each window to carbon, Graphite plaintext: tcp://host:2003', default: '' };
const PREFIX_OPTION: Option = { flag: 'graphite-prefix', env: 'DRAINMETER_GRAPHITE_PREFIX', describe: 'first path segments of every Graphite line (default drainmeter.INSTANCE)', default: '' };

interface Settings {
  host: string;
  port: number;
  prefix: string;
}

/** A Graphite path segment. */
export function segment(text: string): string {
  return text.replace(/[^A-Za-z0-9_:-]/g, '_');
}

/** `p50`, `p99_9`, `p100`: a quantile as a path segment. */
function quantileSegment(q: number): string {
  return `p${String(Math.round(q * 100_000) / 1000).replace('.', '_')}`;
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : 'nan';
}

/** The lines of one closed window. */
export function graphiteLines(c: ClosedWindow, prefix: string, quantiles: readonly number[]): string {
  const s = c.series;
  let path = `${prefix}.${segment(s.app.name)}.${s.metric.name}`;
  for (const [k, v] of s.labels) if (k !== 'app' && v !== '') path += `.${segment(v)}`;
  const t = ` ${c.start}\n`;
  const w = c.window;
  const kind = s.metric.kind;
  if (kind === COUNTER) return `${path}.sum ${num(w.sum)}${t}`;
  if (kind !== MEASURE) return `${path}.last ${num(w.last)}${t}`;
  let out = `${path}.count ${w.count}${t}${path}.sum ${num(w.sum)}${t}${path}.min ${num(w.min)}${t}${path}.max ${num(w.max)}${t}${path}.mean ${num(w.sum / w.count)}${t}`;
  for (const q of quantiles) out += `${path}.${quantileSegment(q)} ${num(w.quantile(q))}${t}`;
  return out;
}

class GraphiteOutlet implements Outlet {
  readonly name = 'graphite';
  readonly push = new PushStats();
  readonly window: (c: ClosedWindow) => void;
  private readonly queue: { text: string; lines: number }[] = [];
  private socket: Socket | null = null;
  private connected = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Lines written to the socket whose write has not completed. */
  private inWrite = 0;

  constructor(
    private readonly settings: Settings,
    private readonly ctx: OutletContext,
  ) {
    const prefix = settings.prefix;
    this.window = (c) => this.enqueue(graphiteLines(c, prefix, ctx.quantiles));
    this.connect();
  }

  private enqueue(text: string): void {
    let lines = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    if (this.stopped || this.push.queueBytes + text.length > PUSH_QUEUE_BYTES) {
      this.push.dropped += lines;
      return;
    }
    this.queue.push({ text, lines });
    this.push.queueBytes += text.length;
    this.send();
  }

  private connect(): void {
    const { host, port } = this.settings;
    const socket = connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      this.attempts = 0;
      this.send();
    });
    socket.on('drain', () => this.send());
    socket.on('error', () => {
      // 'close' follows; the reason is counted once there.
    });
    socket.on('close', (hadError) => {
      this.connected = false;
      this.socket = null;
      this.push.fail(hadError ? 'network' : 'closed');
      if (this.stopped) return;
      const delay = retryDelay(this.attempts++);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, delay);
      this.timer.unref();
    });
  }

  /** Writes what is queued while the socket takes it. */
  private send(): void {
    const socket = this.socket;
    if (!this.connected || socket === null) return;
    while (this.queue.length > 0 && !socket.writableNeedDrain) {
      const item = this.queue.shift() as { text: string; lines: number };
      this.push.queueBytes -= item.text.length;
      this.inWrite += item.lines;
      socket.write(item.text, (err) => {
        this.inWrite -= item.lines;
        if (err) this.push.dropped += item.lines;
        else this.push.samples += item.lines;
      });
    }
  }

  async flush(deadline: number): Promise<void> {
    this.stopped = true;
    while ((this.queue.length > 0 || this.inWrite > 0) && Date.now() < deadline) {
      if (this.connected) this.send();
      else if (this.socket === null && this.timer !== null) {
        // Reconnect now rather than after the backoff: time is short.
        clearTimeout(this.timer);
        this.timer = null;
        this.connect();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const item of this.queue) this.push.dropped += item.lines;
    this.queue.length = 0;
    this.push.queueBytes = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    const socket = this.socket;
    if (socket !== null) await new Promise<void>((resolve) => socket.end(resolve));
  }
}

export const graphiteOutlet = defineOutlet<Settings>({
  name: 'graphite',
  options: [URL_OPTION, PREFIX_OPTION, INSTANCE],
  configure(values) {
    const url = values.get(URL_OPTION.flag) ?? '';
    if (url === '') return null;
    const m = /^tcp:\/\/([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/.exec(url);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new ConfigError(`DRAINMETER_GRAPHITE_URL (--graphite-url) must be tcp://host:port, such as tcp://127.0.0.1:2003, not ${JSON.stringify(url)}`);
    }
    const prefix = values.get(PREFIX_OPTION.flag) ?? '';
    if (prefix !== '' && !/^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/.test(prefix)) {
      throw new ConfigError(`DRAINMETER_GRAPHITE_PREFIX (--graphite-prefix) must be dot-separated segments of A-Z a-z 0-9 _ : -, not ${JSON.stringify(prefix)}`);
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]), prefix: prefix || `drainmeter.${segment(instanceOf(values))}` };
  },
  start(settings, ctx) {
    return new GraphiteOutlet(settings, ctx);
  },
});
