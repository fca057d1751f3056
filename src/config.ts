// Configuration, read and validated once at start (SPEC §1). Every option is a flag
// and an environment variable (`--max-series` ⇔ DRAINMETER_MAX_SERIES); flags win.
// A bad value is a ConfigError whose message is the one line the CLI prints before
// exiting 2.

import { HISTORY_OPTIONS, type HistorySettings, historySettings } from './history/index.js';
import { ConfigError, type Option } from './options.js';
import { type Configured, configureOutlets, OUTLET_OPTIONS } from './outlets/index.js';
import { instanceOf } from './outlets/push.js';

export { ConfigError } from './options.js';

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
  /** Worker processes sharing the port (SPEC §8). */
  workers: number;
  /** Redis joining receivers ('' for none): REDIS_TLS_URL, else REDIS_URL. */
  redisUrl: string;
  /** This receiver's name: DRAINMETER_INSTANCE, else DYNO, else the host name. */
  instance: string;
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
  { flag: 'max-series', env: 'DRAINMETER_MAX_SERIES', describe: 'live series, all apps together', default: '100000' },
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
  ...HISTORY_OPTIONS,
];

export interface Parsed {
  /** Words that are not options (the command and its arguments). */
  args: string[];
  /** Raw option values, by flag name, after flags over environment over defaults. */
  values: Map<string, string>;
  /** Flags given that this command does not take: the caller decides. */
  unknown: string[];
}

/** Splits argv into arguments and options; flags win over the environment. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv, extra: string[] = []): Parsed {
  const values = new Map<string, string>();
  for (const o of OPTIONS) {
    const v = env[o.env];
    values.set(o.flag, v !== undefined && v !== '' ? v : o.default);
  }
  // Heroku sets WEB_CONCURRENCY by dyno size: the workers' default (SPEC §8).
  if (values.get('workers') === '') values.set('workers', env.WEB_CONCURRENCY !== undefined && env.WEB_CONCURRENCY !== '' ? env.WEB_CONCURRENCY : '1');
  const known = new Set([...OPTIONS.map((o) => o.flag), ...extra]);
  const booleans = new Set(['insecure', 'help', 'version', 'now']);
  const args: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      if (a === '-h') values.set('help', 'true');
      else if (a === '-v') values.set('version', 'true');
      else args.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq === -1 ? a.slice(2) : a.slice(2, eq);
    if (!known.has(name)) {
      unknown.push(a);
      continue;
    }
    if (eq !== -1) values.set(name, a.slice(eq + 1));
    else if (booleans.has(name)) values.set(name, 'true');
    else if (i + 1 < argv.length) values.set(name, argv[++i]);
    else throw new ConfigError(`--${name} needs a value`);
  }
  return { args, values, unknown };
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
  const text = (values.get(flag) ?? '').toLowerCase();
  if (['true', '1', 'yes'].includes(text)) return true;
  if (['false', '0', 'no', ''].includes(text)) return false;
  throw new ConfigError(`${envOf(flag)} (--${flag}) must be true or false, not ${JSON.stringify(text)}`);
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
    history: historySettings(values),
  };
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
