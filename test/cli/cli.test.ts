// The built command, as a user runs it: exit codes, stdout and stderr.

import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { verifyDrain } from '../../src/server/auth.js';

const CLI = new URL('../../dist/src/cli.js', import.meta.url).pathname;
const SECRET = 'cli-secret-0123456789';

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('drainmeter command', () => {
  it('runs as a command of its own, as npx and a shell run it (the build makes it executable)', () => {
    const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('prints its version and its help', () => {
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('drainmeter serve');
    expect(help.stdout).toContain('DRAINMETER_MAX_SERIES_PER_APP');
    for (const v of [['-v'], ['version']]) expect(run(v)).toMatchObject({ code: 0, stdout: run(['--version']).stdout });
  });

  it("prints one command's usage for COMMAND --help, and the usage with exit 2 for no command", () => {
    const tail = run(['tail', '--help']);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toMatch(/^usage:\n  drainmeter tail \[FILE…\]/);
    expect(tail.stdout).toContain('--format F');
    expect(tail.stdout).not.toContain('drainmeter replay');
    const replay = run(['replay', '-h']);
    expect(replay.stdout).toMatch(/^usage:\n  drainmeter replay FILE --url URL/);
    expect(replay.stdout).not.toContain('DRAINMETER_MAX_SERIES');
    expect(run(['help', 'token']).stdout).toMatch(/^usage:\n  drainmeter token APP/);
    expect(run(['serve', '--help']).stdout).toContain('DRAINMETER_MAX_SERIES_PER_APP');
    const bare = run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('drainmeter serve');
    expect(bare.stderr).toContain('drainmeter tail');
  });

  it('stops on a bad value with one line naming the variable, exit 2', () => {
    const r = run(['serve'], { DRAINMETER_RESOLUTION: '7' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('drainmeter: DRAINMETER_RESOLUTION (--resolution) must be one of 1, 5, 10, 15, 30, 60, not "7"\n');
    expect(run(['serve', '--max-series', 'lots']).stderr).toMatch(/^drainmeter: DRAINMETER_MAX_SERIES \(--max-series\) must be a whole number/);
    expect(run(['serve', '--nope']).code).toBe(2);
    expect(run(['frobnicate']).code).toBe(2);
  });

  it('lets a flag win over its environment variable', () => {
    const r = run(['serve', '--resolution', '9'], { DRAINMETER_RESOLUTION: '5' });
    expect(r.stderr).toContain('not "9"');
  });

  it('refuses to bind a public address without secrets unless --insecure', () => {
    const r = run(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DRAINMETER_SECRETS');
  });

  it('token prints a password that verifies, the drain URL and the heroku drains:add line', () => {
    const r = run(['token', 'shop'], { DRAINMETER_SECRETS: SECRET, DRAINMETER_PUBLIC_URL: 'https://metrics.example.com' });
    expect(r.code).toBe(0);
    const password = /^password: (\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(verifyDrain([SECRET], 'shop', password)).toBe(true);
    expect(r.stdout).toContain(`url: https://shop:${password}@metrics.example.com/logs`);
    expect(r.stdout).toContain(`heroku drains:add 'https://shop:${password}@metrics.example.com/logs' -a shop`);
    const basic = Buffer.from(`shop:${password}`).toString('base64');
    expect(r.stdout).toContain(`heroku telemetry:add https://metrics.example.com -a shop --signals logs --transport http --headers '{"Authorization":"Basic ${basic}"}'`);
    expect(run(['token', 'shop']).code).toBe(2);
    expect(run(['token', 'bad name'], { DRAINMETER_SECRETS: SECRET }).code).toBe(2);
  });

  it('serve logs logfmt, answers, and on SIGTERM closes its windows and exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: { PATH: process.env.PATH } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
      child.stdout.on('data', () => {
        const m = /at=info msg=listening port=(\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(Number(m[1]));
        }
      });
    });
    expect(out).toContain('at=warn msg="open mode');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(await health.text()).toBe('ok\n');
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toMatch(/at=info msg=stopping reason=SIGTERM/);
    expect(out).toMatch(/at=info msg=stopped/);
  });
});
