#!/usr/bin/env node
// The drainmeter command: wires configuration, the server and the outlets together.
// Errors go to stderr, results to stdout; a bad configuration exits 2.

import { readFileSync } from 'node:fs';
import { ConfigError, type Config, configFrom, OPTIONS, parseArgs } from './config.js';
import { stdoutLogger } from './log.js';
import { APP_NAME, drainPassword } from './server/auth.js';
import { serve } from './server/serve.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const USAGE = `drainmeter ${VERSION}: turns log lines into Prometheus metrics

usage:
  drainmeter serve              the log drain server: POST /logs, GET /metrics, GET /healthz
  drainmeter token APP          prints APP's drain password, drain URL and heroku drains:add line

options (each also an environment variable; flags win):
${OPTIONS.map((o) => `  --${o.flag.padEnd(20)} ${o.env.padEnd(31)} ${o.describe}${o.default ? ` [${o.default}]` : ''}`).join('\n')}
  --help, -h                                                this text
  --version                                                 the version
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`drainmeter: ${message}\n`);
  process.exit(code);
}

function publicUrl(config: Config): string {
  if (config.url !== '') return config.url;
  const herokuApp = process.env.HEROKU_APP_NAME;
  return herokuApp ? `https://${herokuApp}.herokuapp.com` : 'https://YOUR-DRAINMETER-HOST';
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseArgs(argv, process.env, ['help', 'version']);
  if (parsed.values.get('version') === 'true') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const [command, ...rest] = parsed.args;
  if (parsed.values.get('help') === 'true' || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.unknown.length > 0) fail(`unknown option ${parsed.unknown[0]} (see drainmeter --help)`);
  const config = configFrom(parsed.values);
  switch (command) {
    case 'serve': {
      const log = stdoutLogger();
      const running = await serve(config, log);
      const onSignal = (signal: string) => {
        running.stop(signal).then(
          () => process.exit(0),
          (err: Error) => {
            log.error('stop failed', { error: err.message });
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      return;
    }
    case 'token': {
      const app = rest[0];
      if (app === undefined || !APP_NAME.test(app)) fail('usage: drainmeter token APP (APP: 1 to 64 of A-Z a-z 0-9 . _ -)');
      if (config.secrets.length === 0) fail('DRAINMETER_SECRETS is not set: drain passwords are signed with it (drainmeter --help)');
      const password = drainPassword(config.secrets[0], app);
      const base = publicUrl(config);
      const url = `${base.replace('://', `://${app}:${password}@`)}/logs`;
      process.stdout.write(`password: ${password}\nurl: ${url}\n\nheroku drains:add '${url}' -a ${app}\n`);
      if (base.includes('YOUR-DRAINMETER-HOST')) process.stderr.write('drainmeter: set DRAINMETER_URL (or --url) to print the real host\n');
      return;
    }
    default:
      fail(`unknown command ${JSON.stringify(command)} (see drainmeter --help)`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message);
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
});
