#!/usr/bin/env node
// The drainmeter command: wires configuration, the server and the outlets together.
// Errors go to stderr, results to stdout; a bad configuration exits 2. Each
// command's modules are loaded when it runs: `tail` and `--help` do not pay for the
// server, Redis and push stacks (0.16 s of 0.42 before `tail`'s first line).

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { type Config, configFrom, type Flags, OPTIONS, optionFlags, parseArgs } from './config.js';
import { ERROR_CODES, errorCode, UsageError } from './model/errors.js';
import type { Option } from './options.js';
import { stdoutLogger } from './log.js';
import { APP_NAME, drainPassword } from './server/auth.js';
import type { Format } from './tail.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const optionLine = (o: Option) => `  --${o.flag.padEnd(20)} ${o.env.padEnd(31)} ${o.describe}${o.default ? ` [${o.default}]` : ''}`;
const OPTION_LINES = OPTIONS.map(optionLine).join('\n');

function fail(message: string, code = 2): never {
  process.stderr.write(`drainmeter: ${message}\n`);
  process.exit(code);
}

function publicUrl(config: Config): string {
  if (config.url !== '') return config.url;
  // Dyno metadata (heroku labs:enable runtime-dyno-metadata): new apps' domains carry
  // a random suffix, so the domain is better than the app name.
  const domain = process.env.HEROKU_APP_DEFAULT_DOMAIN_NAME;
  if (domain) return `https://${domain}`;
  const herokuApp = process.env.HEROKU_APP_NAME;
  return herokuApp ? `https://${herokuApp}.herokuapp.com` : 'https://YOUR-DRAINMETER-HOST';
}

/**
 * On a Heroku dyno, open mode would listen on loopback, where the router cannot reach
 * it (R10 a minute later): refuse at once, saying what to run (docs/cli.md).
 */
function refuseOpenDyno(config: Config): void {
  const dyno = process.env.DYNO;
  if (dyno === undefined || dyno === '' || config.secrets.length > 0 || config.insecure) return;
  const app = process.env.HEROKU_APP_NAME ? ` -a ${process.env.HEROKU_APP_NAME}` : '';
  fail(
    `dyno ${dyno} has no DRAINMETER_SECRETS, so drains could not be authenticated; run: heroku config:set DRAINMETER_SECRETS=$(openssl rand -hex 32) DRAINMETER_METRICS_TOKEN=$(openssl rand -hex 32)${app}`,
  );
}

/** What one command reads from its argv, as node:util parseArgs hears it. */
interface Invocation {
  words: string[];
  values: Map<string, string>;
}

/**
 * One command: its usage, its own flag set (node:util parseArgs, strict), which of
 * the configuration's options it takes, how many words, and what it does. Adding a
 * command is one entry in COMMANDS (docs/cli.md).
 */
interface Command {
  usage: string;
  /** Flags of its own, beside the configuration's. */
  flags: Flags;
  /** The configuration options it takes as flags: every one, some, or none. */
  options: 'all' | readonly string[];
  /** Words after the command, at most. */
  maxWords: number;
  run(i: Invocation): Promise<void>;
}

const HELP: Flags = { help: { type: 'boolean', short: 'h' } };

const COMMANDS: Record<string, Command> = {
  serve: {
    usage: `drainmeter serve              the log drain server: POST /logs (logplex), POST /v1/logs (OTLP),
                                GET /metrics, GET / (the dashboard), GET /healthz
      every option below, each also an environment variable (flags win)`,
    flags: HELP,
    options: 'all',
    maxWords: 0,
    run: runServe,
  },
  token: {
    usage: `drainmeter token APP          prints APP's drain password, drain URL and heroku drains:add line
                                (needs DRAINMETER_SECRETS; DRAINMETER_PUBLIC_URL names the host)`,
    flags: HELP,
    options: ['secrets', 'public-url'],
    maxWords: 1,
    run: runToken,
  },
  tail: {
    usage: `drainmeter tail [FILE…]       reads lines from files or stdin (heroku logs -t | drainmeter tail),
                                plain or gzip, prints each closed window; at EOF flushes every
                                window, exits 0
      --format F                table (live view, the default on a terminal), logfmt (the default
                                otherwise), json, or prom (the exposition, once, at EOF)
      --listen PORT             serve GET /metrics and the dashboard (GET /) on 127.0.0.1:PORT
      --app NAME                the app label of every series [default]
      --threads N               threads reading FILEs for --format prom [the cores, for
                                files of 8 MB or more]; the result is one thread's`,
    flags: { ...HELP, format: { type: 'string' }, listen: { type: 'string' }, app: { type: 'string' }, threads: { type: 'string' } },
    options: 'all',
    maxWords: Infinity,
    run: runTail,
  },
  replay: {
    usage: `drainmeter replay FILE --url URL
                                sends FILE to a drain as logplex batches, progress on stderr
      --rate N                  lines per second at most [as fast as the drain takes them]
      --batch N                 lines per batch [100]
      --now                     stamp every line with the time it is sent (use it when a
                                Prometheus is to see rates: --now --rate 20)`,
    flags: { ...HELP, url: { type: 'string' }, rate: { type: 'string' }, batch: { type: 'string' }, now: { type: 'boolean' } },
    options: [],
    maxWords: 1,
    run: runReplay,
  },
  check: {
    usage: `drainmeter check FILE         validates an alert rules file (docs/alerts.md) without starting`,
    flags: HELP,
    options: [],
    maxWords: 1,
    run: runAlerts('check'),
  },
  alerts: {
    usage: `drainmeter alerts [FILE] --prometheus OUT
                                writes the alert rules (FILE, else --alerts) as Prometheus alerting
                                rules to OUT (- for stdout)`,
    flags: { ...HELP, prometheus: { type: 'string' } },
    options: 'all',
    maxWords: 1,
    run: runAlerts('alerts'),
  },
};

const USAGE = `drainmeter ${VERSION}: turns log lines into Prometheus metrics

usage:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}
  drainmeter COMMAND --help     one command's usage
  drainmeter version, -v        the version

options (each also an environment variable; flags win):
${OPTION_LINES}
`;

/** `drainmeter COMMAND --help`: that command's usage, and the options it reads. */
function commandUsage(command: string): string {
  const c = COMMANDS[command];
  const lines = c.options === 'all' ? OPTION_LINES : OPTIONS.filter((o) => c.options.includes(o.flag)).map(optionLine).join('\n');
  const options = lines === '' ? '' : `\noptions (each also an environment variable; flags win):\n${lines}\n`;
  return `usage:\n  ${c.usage}\n${options}`;
}

async function runServe({ values }: Invocation): Promise<void> {
  const config = configFrom(values);
  refuseOpenDyno(config);
  const log = stdoutLogger();
  const [{ serveScaled, scaledOut }, { serve }] = await Promise.all([import('./cluster.js'), import('./server/serve.js')]);
  const running = scaledOut(config) ? await serveScaled(config, log) : await serve(config, log);
  // A worker stops on its own signal (cluster.ts).
  if (cluster.isWorker) return;
  const onSignal = (signal: string) => {
    running.stop(signal).then(
      () => process.exit(0),
      (err: Error) => {
        log.error('stop failed', { error: err.message, stack: err.stack });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

async function runToken({ words, values }: Invocation): Promise<void> {
  const config = configFrom(values);
  const app = words[0];
  if (app === undefined || !APP_NAME.test(app)) fail('usage: drainmeter token APP (APP: 1 to 64 of A-Z a-z 0-9 . _ -)');
  if (config.secrets.length === 0) fail('DRAINMETER_SECRETS is not set: drain passwords are signed with it (drainmeter --help)');
  const password = drainPassword(config.secrets[0], app);
  const base = publicUrl(config);
  const url = `${base.replace('://', `://${app}:${password}@`)}/logs`;
  const header = JSON.stringify({ Authorization: `Basic ${Buffer.from(`${app}:${password}`).toString('base64')}` });
  process.stdout.write(
    `password: ${password}\nurl: ${url}\n\n` +
      `# a Cedar app (logplex drain):\nheroku drains:add '${url}' -a ${app}\n` +
      `# a Fir app (OpenTelemetry logs, sent to ${base}/v1/logs):\nheroku telemetry:add ${base} -a ${app} --signals logs --transport http --headers '${header}'\n`,
  );
  if (base.includes('YOUR-DRAINMETER-HOST')) process.stderr.write('drainmeter: set DRAINMETER_PUBLIC_URL (or --public-url) to print the real host\n');
}

async function runTail({ words, values: v }: Invocation): Promise<void> {
  const config = configFrom(v);
  const { FORMATS, tail } = await import('./tail.js');
  const format = (v.get('format') ?? (process.stdout.isTTY ? 'table' : 'logfmt')) as Format;
  if (!FORMATS.includes(format)) fail(`--format must be one of ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  const listen = v.has('listen') ? Number(v.get('listen')) : 0;
  if (v.has('listen') && (!/^\d+$/.test(v.get('listen') ?? '') || listen < 1 || listen > 65535)) fail(`--listen must be a port from 1 to 65535, not ${JSON.stringify(v.get('listen'))}`);
  const app = v.get('app') ?? 'default';
  if (!APP_NAME.test(app)) fail('--app must be 1 to 64 of A-Z a-z 0-9 . _ -');
  const threads = Number(v.get('threads') ?? 0);
  if (v.has('threads') && (!Number.isInteger(threads) || threads < 1 || threads > 64)) fail(`--threads must be a whole number from 1 to 64, not ${JSON.stringify(v.get('threads'))}`);
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, now: Date.now };
  process.exitCode = await tail(words, config, { format, listen, app, threads }, io);
}

async function runReplay({ words, values: v }: Invocation): Promise<void> {
  const file = words[0];
  const url = v.get('url');
  if (file === undefined || url === undefined) fail('usage: drainmeter replay FILE --url URL [--rate N] [--batch N] [--now]');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) fail(`--url must be an http(s) URL, not ${JSON.stringify(url)}`);
  const rate = Number(v.get('rate') ?? 0);
  if (!Number.isFinite(rate) || rate < 0) fail(`--rate must be a number of lines per second, not ${JSON.stringify(v.get('rate'))}`);
  const batch = Number(v.get('batch') ?? 100);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) fail(`--batch must be a whole number from 1 to 10000, not ${JSON.stringify(v.get('batch'))}`);
  const io = { stdout: process.stdout, stderr: process.stderr, now: Date.now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
  const { replay } = await import('./replay.js');
  const s = await replay(file, { url, rate, batch, now: v.get('now') === 'true' }, io);
  process.stdout.write(
    `sent=${s.lines} batches=${s.batches} seconds=${s.seconds.toFixed(2)} rate=${Math.round(s.lines / Math.max(s.seconds, 0.001))} retries=${s.retries} failed_batches=${s.failedBatches} failed_lines=${s.failedLines}\n`,
  );
  process.exitCode = s.failedBatches > 0 ? 1 : 0;
}

/** `drainmeter check FILE` and `drainmeter alerts [FILE] --prometheus OUT` (docs/alerts.md). */
function runAlerts(command: 'check' | 'alerts'): (i: Invocation) => Promise<void> {
  return async ({ words, values }) => {
    const config = configFrom(values);
    const { readRules } = await import('./alerts/options.js');
    const file = words[0] ?? (command === 'alerts' ? config.alerts?.file : undefined);
    if (file === undefined) fail(command === 'check' ? 'usage: drainmeter check FILE' : 'usage: drainmeter alerts [FILE] --prometheus OUT (FILE: else --alerts or DRAINMETER_ALERTS)');
    const set = readRules(file);
    if (command === 'check') {
      process.stdout.write(`${file}: ${set.rules.length} rules, ${set.notifiers.size} notifiers: ok\n`);
      return;
    }
    const out = values.get('prometheus');
    if (out === undefined) fail('usage: drainmeter alerts [FILE] --prometheus OUT');
    const { prometheusRules } = await import('./alerts/prometheus-rules.js');
    const { text, skipped } = prometheusRules(set, config);
    if (out === '-') process.stdout.write(text);
    else (await import('node:fs')).writeFileSync(out, text);
    process.stderr.write(`drainmeter: ${set.rules.length - skipped.length} of ${set.rules.length} rules written${skipped.length > 0 ? `; left out (see the comments): ${skipped.join(', ')}` : ''}\n`);
  };
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const about = first === 'help' ? rest[0] : undefined;
    process.stdout.write(about !== undefined && about in COMMANDS ? commandUsage(about) : USAGE);
    return;
  }
  // No command: the usage, on stderr, and the exit code of a usage error.
  if (first === undefined) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) fail(`unknown command ${JSON.stringify(first)} (see drainmeter --help)`);
  const flags = { ...(command.options === 'all' ? optionFlags() : optionFlags(command.options)), ...command.flags };
  let parsed;
  try {
    parsed = parseArgs(rest, process.env, flags, command.maxWords);
  } catch (err) {
    if (err instanceof UsageError) fail(`${first}: ${err.message} (drainmeter ${first} --help lists what it takes)`);
    throw err;
  }
  if (parsed.values.get('help') === 'true') {
    process.stdout.write(commandUsage(first));
    return;
  }
  await command.run({ words: parsed.args, values: parsed.values });
}

// A reader that goes away (`drainmeter tail | head`) ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// One of drainmeter's errors ends the command with its code's exit status
// (model/errors.ts, docs/cli.md#error-codes): a bad configuration, a port another
// process holds, a file that is not there or not text, a drain replay cannot reach.
// Anything else is a bug: its stack, exit 1.
main(process.argv.slice(2)).catch((err: unknown) => {
  const code = errorCode(err);
  if (code !== undefined && ERROR_CODES[code].oneLine) fail((err as Error).message, ERROR_CODES[code].exit);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
