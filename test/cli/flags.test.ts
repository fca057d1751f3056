// Flags as the command line gives them: one option set per command (node:util
// parseArgs, strict), so a stray word, an unknown flag, a value given to a boolean or
// a missing value is one line naming it and exit 2, never a silent default.

import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, exit 2, naming `what`. */
function refused(args: string[], what: string, env: Record<string, string> = {}) {
  const r = run(args, env);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.split('\n')).toHaveLength(2);
  expect(r.stderr).toContain(what);
}

describe('drainmeter flags', () => {
  it('refuses a value after the boolean --insecure instead of listening on every interface', () => {
    refused(['serve', '--insecure', 'false', '--host', '0.0.0.0', '--port', '0'], '--insecure takes no value: "false" is a stray word');
    refused(['serve', '--insecure=false', '--port', '0'], '--insecure takes no value');
  });

  it('refuses stray words, unknown flags and missing values, per command', () => {
    refused(['serve', 'foo', 'bar', '--port', '0'], 'unexpected word "foo"');
    refused(['serve', '--nope'], 'unknown option --nope');
    refused(['serve', '--port'], '--port needs a value');
    refused(['token', 'shop', 'extra'], 'unexpected word "extra"', { DRAINMETER_SECRETS: 'cli-secret-0123456789' });
    // Each command its own set: replay takes no server option, serve no tail flag.
    refused(['replay', 'x.log', '--url', 'http://127.0.0.1:1/logs', '--max-series', '3'], 'unknown option --max-series');
    refused(['serve', '--format', 'json'], 'unknown option --format');
    refused(['tail', '--now'], 'unknown option --now');
  });

  it('takes DRAINMETER_INSECURE as true, false, 1 or 0 only', () => {
    refused(['serve', '--port', '0'], 'DRAINMETER_INSECURE must be true, false, 1 or 0, not "yes"', { DRAINMETER_INSECURE: 'yes' });
  });

  it('refuses tail --listen 0, as its message says', () => {
    refused(['tail', '--listen', '0'], '--listen must be a port from 1 to 65535, not "0"');
  });

  it('says open mode on a non-loopback address is not loopback only', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--insecure', '--host', '0.0.0.0', '--port', '0'], { env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
      child.stdout.on('data', () => {
        if (out.includes('msg=listening')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    expect(out).toContain('host=0.0.0.0');
    expect(out).not.toContain('loopback only');
    expect(out).toMatch(/at=warn msg="open mode on a non-loopback address \(--insecure\)/);
  });
});
