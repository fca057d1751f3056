// Configuration, read and validated once at start (docs/cli.md). Every option is a flag
// and an environment variable (`--max-series` ⇔ DRAINMETER_MAX_SERIES); flags win.
// A bad value is a ConfigError whose message is the one line the CLI prints before
// exiting 2.

import { readFileSync } from 'node:fs';
import { SERIES_DEFAULT, seriesForMemory } from './model/index.js';
import { type AlertSettings, ALERT_OPTIONS, configureAlerts } from './alerts/options.js';
import { type ParseArgsConfig, parseArgs as nodeParseArgs } from 'node:util';
import { HISTORY_OPTIONS, type HistorySettings, historySettings } from './history/index.js';
import { ConfigError, UsageError } from './model/errors.js';
import type { Option } from './options.js';
import { type Configured, configureOutlets, OUTLET_OPTIONS } from './outlets/index.js';
import { instanceOf } from './outlets/push.js';

export { ConfigError, UsageError } from './model/errors.js';

export interface Config {
  port: number;
  host: string;
  secrets: string[];
  resolution: number;
  grace: number;
  quantiles: number[];
  quantileWindow: number;
  maxSeries: number;
  maxSeriesPerApp: number;
  seriesTtl: number;
  maxBody: number;
  maxInflight: number;
  metricsToken: string;
  insecure: boolean;
  /** Public base URL of this server, for `drainmeter token` (https://host). */
  url: string;
  /** The outlets the options turn on (outlets/index.ts), validated. */
  outlets: Configured[];
  /** Worker processes sharing the port (docs/scale-out.md). */
  workers: number;
  /** Redis joining receivers ('' for none): REDIS_TLS_URL, else REDIS_URL. */
  redisUrl: string;
  /** This receiver's name: DRAINMETER_INSTANCE, else DYNO, else the host name. */
  instance: string;
  /** Alert rules and where their state lives (docs/alerts.md), or null. */
  alerts: AlertSettings | null;
  /** Where the dashboard's history outlives the process (docs/history.md). */
  history: HistorySettings;
}

export const RESOLUTIONS = [1, 5, 10, 15, 30, 60];

/** The options, in the order `--help` lists them. */
export const OPTIONS: Option[] = [
  { flag: 'port', env: 'PORT', describe: 'listen port', default: '8080' },
  { flag: 'host', env: 'DRAINMETER_HOST', describe: 'listen address (127.0.0.1 in open mode, else 0.0.0.0)', default: '' },
  { flag: 'secrets', env: 'DRAINMETER_SECRETS', describe: 'comma-separated signing keys; the first signs, all verify', default: '' },
  { flag: 'resolution', env: 'DRAINMETER_RESOLUTION', describe: 'window length, seconds: 1, 5, 10, 15, 30 or 60', default: '1' },
  { flag: 'grace', env: 'DRAINMETER_GRACE', describe: "seconds after a window's end before it closes", default: '2' },
  { flag: 'quantiles', env: 'DRAINMETER_QUANTILES', describe: 'quantiles reported (0 is min, 1 is max)', default: '0,0.5,0.95,0.99,1' },
  { flag: 'quantile-window', env: 'DRAINMETER_QUANTILE_WINDOW', describe: 'seconds of closed windows /metrics quantiles cover', default: '60' },
  { flag: 'max-series', env: 'DRAINMETER_MAX_SERIES', describe: 'live series, all apps together (fewer on a dyno under 1.1 GB: docs/limits.md)', default: String(SERIES_DEFAULT) },
  { flag: 'max-series-per-app', env: 'DRAINMETER_MAX_SERIES_PER_APP', describe: 'live series of one app', default: '10000' },
  { flag: 'series-ttl', env: 'DRAINMETER_SERIES_TTL', describe: 'seconds without data before a series is dropped', default: '600' },
  { flag: 'max-body', env: 'DRAINMETER_MAX_BODY', describe: 'largest accepted request body, bytes', default: '1048576' },
  { flag: 'max-inflight', env: 'DRAINMETER_MAX_INFLIGHT', describe: 'request body bytes being read at once; past it, 503', default: '67108864' },
  { flag: 'metrics-token', env: 'DRAINMETER_METRICS_TOKEN', describe: "bearer token that may read every app's metrics", default: '' },
  { flag: 'insecure', env: 'DRAINMETER_INSECURE', describe: 'allow a non-loopback address without secrets', default: 'false' },
  { flag: 'public-url', env: 'DRAINMETER_PUBLIC_URL', describe: 'public base URL, for `drainmeter token`', default: '' },
  { flag: 'workers', env: 'DRAINMETER_WORKERS', describe: 'worker processes sharing the port (default: WEB_CONCURRENCY, else 1)', default: '' },
  { flag: 'redis-url', env: 'REDIS_URL', describe: 'Redis joining several receivers into one (redis:// or rediss://)', default: '' },
  { flag: 'redis-tls-url', env: 'REDIS_TLS_URL', describe: 'as REDIS_URL, over TLS; wins when both are set', default: '' },
  // Each outlet declares its own (outlets/index.ts), and so does the history (history/index.ts).
  ...OUTLET_OPTIONS,
  ...ALERT_OPTIONS,
  ...HISTORY_OPTIONS,
];

export interface Parsed {
  /** Words that are not options (the command's arguments). */
  args: string[];
  /** Raw option values, by flag name, after flags over environment over defaults. */
  values: Map<string, string>;
}

/** An option set as node:util parseArgs takes it. */
export type Flags = NonNullable<ParseArgsConfig['options']>;

/** Flags that take no value: given alone, they mean true. */
export const BOOLEAN_FLAGS = new Set(['insecure']);

/** The configuration's flags (every OPTIONS entry, or the ones named), as parseArgs declares them. */
export function optionFlags(only?: readonly string[]): Flags {
  const flags: Flags = {};
  for (const o of OPTIONS) if (only === undefined || only.includes(o.flag)) flags[o.flag] = { type: BOOLEAN_FLAGS.has(o.flag) ? 'boolean' : 'string' };
  return flags;
}

/** node:util parseArgs' error, as one line naming the flag or word. */
function usageError(err: Error & { code?: string }, argv: readonly string[], flags: Flags): UsageError {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  const name = quoted.replace(/ <value>$/, '');
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${name}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const before = argv[argv.indexOf(quoted) - 1] ?? '';
      const flag = before.startsWith('--') ? flags[before.slice(2)] : undefined;
      if (flag?.type === 'boolean') return new UsageError(`${before} takes no value: "${quoted}" is a stray word (leave ${before} out for false)`);
      return new UsageError(`unexpected word "${quoted}"`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return new UsageError(`${name} takes no value (give ${name} alone for true, leave it out for false)`);
      if (/ambiguous/.test(err.message)) return new UsageError(`${name} needs a value (write ${name}=VALUE for a value that starts with -)`);
      return new UsageError(`${name} needs a value`);
    default:
      return new UsageError(err.message.split('\n')[0]);
  }
}

/**
 * Splits one command's argv into words and option values with node:util parseArgs,
 * strict: an unknown flag, a value given to a boolean, a missing value or a word past
 * `maxWords` is a UsageError. Every configuration option fills from its environment
 * variable or default; flags win.
 */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv, flags: Flags = optionFlags(), maxWords = Infinity): Parsed {
  const values = new Map<string, string>();
  for (const o of OPTIONS) {
    const v = env[o.env];
    values.set(o.flag, v !== undefined && v !== '' ? v : o.default);
  }
  // The series' default fits the memory the dyno has (docs/limits.md).
  if ((env.DRAINMETER_MAX_SERIES ?? '') === '') values.set('max-series', String(seriesForMemory(memoryMb(env))));
  // Heroku sets WEB_CONCURRENCY by dyno size: the workers' default (docs/scale-out.md).
  if (values.get('workers') === '') values.set('workers', env.WEB_CONCURRENCY !== undefined && env.WEB_CONCURRENCY !== '' ? env.WEB_CONCURRENCY : '1');
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: argv, options: flags, strict: true, allowPositionals: maxWords > 0 });
  } catch (err) {
    throw usageError(err as Error, argv, flags);
  }
  if (parsed.positionals.length > maxWords) throw new UsageError(`unexpected word "${parsed.positionals[maxWords]}"`);
  for (const [k, v] of Object.entries(parsed.values)) if (v !== undefined) values.set(k, String(v));
  return { args: parsed.positionals, values };
}

/**
 * The memory this process may use, MB: Heroku's MEMORY_AVAILABLE (set on dynos), else
 * the cgroup's limit (v2, then v1); null when none is set.
 */
export function memoryMb(env: NodeJS.ProcessEnv, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): number | null {
  const heroku = Number(env.MEMORY_AVAILABLE ?? '');
  if (env.MEMORY_AVAILABLE !== undefined && env.MEMORY_AVAILABLE !== '' && Number.isFinite(heroku) && heroku > 0) return heroku;
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue;
    }
    // "max" (v2) or a page-rounded 2^63 (v1): no limit.
    if (/^\d+$/.test(text) && Number(text) < 2 ** 50) return Number(text) / 2 ** 20;
  }
  return null;
}

function envOf(flag: string): string {
  return OPTIONS.find((o) => o.flag === flag)?.env ?? `--${flag}`;
}

function integer(values: Map<string, string>, flag: string, min: number, max: number): number {
  const text = values.get(flag) ?? '';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new ConfigError(`${envOf(flag)} (--${flag}) must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return n;
}

function bool(values: Map<string, string>, flag: string): boolean {
  const text = values.get(flag) ?? '';
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0' || text === '') return false;
  throw new ConfigError(`${envOf(flag)} must be true, false, 1 or 0, not ${JSON.stringify(text)}`);
}

/** Validates every option; throws ConfigError naming the first bad one. */
export function configFrom(values: Map<string, string>): Config {
  const resolution = Number(values.get('resolution'));
  if (!RESOLUTIONS.includes(resolution) || !/^\d+$/.test(values.get('resolution') ?? '')) {
    throw new ConfigError(`DRAINMETER_RESOLUTION (--resolution) must be one of ${RESOLUTIONS.join(', ')}, not ${JSON.stringify(values.get('resolution'))}`);
  }
  const quantileText = values.get('quantiles') ?? '';
  const quantiles = quantileText.split(',').map((q) => q.trim());
  if (quantiles.some((q) => !/^(0|1|0?\.\d+|0\.\d+|1\.0*)$/.test(q) || Number(q) < 0 || Number(q) > 1)) {
    throw new ConfigError(`DRAINMETER_QUANTILES (--quantiles) must be comma-separated numbers from 0 to 1, not ${JSON.stringify(quantileText)}`);
  }
  const secretsText = values.get('secrets') ?? '';
  const secrets = secretsText === '' ? [] : secretsText.split(',').map((s) => s.trim());
  if (secrets.some((s) => s.length < 16)) {
    throw new ConfigError('DRAINMETER_SECRETS (--secrets) must be comma-separated keys of at least 16 characters each');
  }
  const url = values.get('public-url') ?? '';
  if (url !== '' && !/^https?:\/\/[^/\s]+$/.test(url.replace(/\/$/, ''))) {
    throw new ConfigError(`DRAINMETER_PUBLIC_URL (--public-url) must be a base URL such as https://metrics.example.com, not ${JSON.stringify(url)}`);
  }
  const host = values.get('host') ?? '';
  const tlsUrl = values.get('redis-tls-url') ?? '';
  const redisUrl = tlsUrl !== '' ? tlsUrl : (values.get('redis-url') ?? '');
  if (redisUrl !== '' && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    throw new ConfigError(`${tlsUrl !== '' ? 'REDIS_TLS_URL' : 'REDIS_URL'} must be a redis:// or rediss:// URL, not ${JSON.stringify(redisUrl.replace(/:[^:@/]*@/, ':…@'))}`);
  }
  return {
    port: integer(values, 'port', 0, 65535),
    host: host === '' ? (secrets.length === 0 ? '127.0.0.1' : '0.0.0.0') : host,
    secrets,
    resolution,
    grace: integer(values, 'grace', 0, 3600),
    quantiles: [...new Set(quantiles.map(Number))].sort((a, b) => a - b),
    quantileWindow: integer(values, 'quantile-window', 1, 86_400),
    maxSeries: integer(values, 'max-series', 1, 100_000_000),
    maxSeriesPerApp: integer(values, 'max-series-per-app', 1, 100_000_000),
    seriesTtl: integer(values, 'series-ttl', 1, 31_536_000),
    maxBody: integer(values, 'max-body', 1024, 1 << 30),
    maxInflight: integer(values, 'max-inflight', 1024, 2 ** 40),
    metricsToken: values.get('metrics-token') ?? '',
    insecure: bool(values, 'insecure'),
    url: url.replace(/\/$/, ''),
    outlets: configureOutlets(values),
    workers: integer(values, 'workers', 1, 64),
    redisUrl,
    instance: instanceOf(values),
    alerts: configureAlerts(values),
    history: historySettings(values),
  };
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
