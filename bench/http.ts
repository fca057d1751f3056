// HTTP ingest: 100-line logplex batches posted by wrk (C, one thread, 16
// connections) to drainmeter serve, against a raw node:http server that only reads
// and discards the body, in the same rounds. Each server runs in a process of its
// own; the machine has two cores, one for the server and one for wrk. After each
// drainmeter round, /metrics must show every line of every batch answered 204, and
// every one of them in its window: none late, none refused.
//
// Lines carry the second they are sent in, as a live drain's do: the corpus holds
// 1,000 lines for each second of the run, and wrk's script sends, each request, the
// next body of the current second. Bodies made once with fixed times became late,
// or (a window per second of them, all ahead of the clock) overran the open
// windows a series may hold, and most observations then skipped the windows.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, syslogMessages } from '../fixtures/corpus.js';
import { logplexBody } from '../fixtures/heroku.js';
import { check, median, redisServer } from './lib.js';
import { drainPassword } from '../src/server/auth.js';

const LINES = 100;
/** Bodies for each second of log: 1,000 lines a second. */
const PER_SECOND = 10;
/** The deployed form: drain credentials on every request (docs/http-api.md). */
const SECRET = 'bench-secret-of-32-characters-xx';
const APP = 'bench';
const BASIC = 'Basic ' + Buffer.from(`${APP}:${drainPassword(SECRET, APP)}`).toString('base64');

async function start(script: string, args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /msg=listening port=(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
  return { child, port };
}

function wrk(script: string, url: string, seconds: number): { rps: number; non2xx: number; requests: number } {
  const out = execFileSync('wrk', ['-t1', '-c16', `-d${seconds}s`, '-s', script, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, non2xx, requests };
}

/** Bodies for `span` seconds from the current one, and the wrk script that sends those of each second in it. */
function prepare(dir: string, authorization: string | null, span: number): { script: string; avgBytes: number } {
  const first = Math.floor(Date.now() / 1000);
  const bodies = span * PER_SECOND;
  const lines = generate(bodies * LINES, { seed: 5, start: first * 1000, rate: PER_SECOND * LINES });
  const messages = syslogMessages(lines);
  let total = 0;
  for (let b = 0; b < bodies; b++) {
    const body = logplexBody(messages.slice(b * LINES, (b + 1) * LINES));
    total += body.length;
    writeFileSync(join(dir, `body-${b}.bin`), body);
  }
  const script = join(dir, 'post.lua');
  // os.time(): whole epoch seconds, the clock serve's windows follow.
  writeFileSync(
    script,
    `local reqs = {}
local i = 0
init = function(args)
  for b = 0, ${bodies - 1} do
    local f = io.open("${dir}/body-" .. b .. ".bin", "rb")
    local body = f:read("*a")
    f:close()
    reqs[b + 1] = wrk.format("POST", "/logs", { ["Content-Type"] = "application/logplex-1", ["Logplex-Msg-Count"] = "${LINES}"${authorization === null ? '' : `, ["Authorization"] = "${authorization}"`} }, body)
  end
end
request = function()
  local s = os.time() - ${first}
  if s < 0 then s = 0 elseif s > ${span - 1} then s = ${span - 1} end
  i = i % ${PER_SECOND} + 1
  return reqs[s * ${PER_SECOND} + i]
end
`,
  );
  return { script, avgBytes: total / bodies };
}

export async function httpBench(rounds: number): Promise<string> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as { status?: number }).status === undefined) return '### HTTP ingest\n\nskipped: wrk is not installed (Debian package `wrk`).';
  }
  const here = new URL('.', import.meta.url).pathname;
  const cli = new URL('../src/cli.js', import.meta.url).pathname;
  const seconds = Number(process.env.BENCH_HTTP_SECONDS ?? 5);
  const results: Record<string, number[]> = { discard: [], drainmeter: [], credentials: [], workers: [], redis: [] };
  // Scale-out (docs/scale-out.md): two workers, and one process joined through a real Redis.
  const redis = await redisServer();
  if (redis === null) delete results.redis;
  const env: Record<string, Record<string, string>> = {
    drainmeter: {},
    credentials: { DRAINMETER_SECRETS: SECRET, DRAINMETER_HOST: '127.0.0.1' },
    workers: { DRAINMETER_WORKERS: '2' },
    redis: { REDIS_URL: redis?.url ?? '' },
  };
  let avg = 0;
  for (let r = 0; r < rounds; r++) {
    for (const which of Object.keys(results)) {
      const dir = mkdtempSync(join(tmpdir(), 'drainmeter-http-'));
      const authorization = which === 'credentials' ? BASIC : null;
      // The warm-up, the round, and the time it takes to start.
      const { script, avgBytes } = prepare(dir, authorization, seconds + 15);
      avg = avgBytes;
      const { child, port } =
        which === 'discard' ? await start(join(here, 'discard-server.js'), [], {}) : await start(cli, ['serve'], env[which]);
      try {
        wrk(script, `http://127.0.0.1:${port}`, 1); // warm-up
        const { rps, non2xx, requests } = wrk(script, `http://127.0.0.1:${port}`, seconds);
        check(non2xx === 0, `${which}: ${non2xx} non-2xx answers`);
        if (which !== 'discard') {
          await new Promise((r) => setTimeout(r, 1_500)); // scale-out: the last hand-over
          const headers: Record<string, string> = authorization === null ? {} : { Authorization: authorization };
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers })).text();
          const app = authorization === null ? 'default' : APP;
          const count = (name: string, labels = ''): number => {
            const m = new RegExp(`${name}\\{app="${app}"${labels}\\} (\\d+)`).exec(text);
            check(m !== null, `${which}: no ${name}${labels} for ${app} on /metrics`);
            return Number(m?.[1]);
          };
          const lines = count('drainmeter_lines_total');
          // Every line of every batch answered 204 (warm-up included) was counted,
          // and went into its window.
          check(lines >= requests * LINES, `lines counted ${lines} < ${requests * LINES}`);
          const late = count('drainmeter_late_lines_total');
          const refused = count('drainmeter_rejected_total', ',reason="window_limit"');
          check(late === 0 && refused === 0, `${which}: ${late} lines late, ${refused} values refused a window`);
        }
        results[which].push(rps * LINES);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  }
  redis?.stop();
  const discard = median(results.discard);
  const ours = median(results.drainmeter);
  const ratios = results.drainmeter.map((x, i) => x / results.discard[i]);
  const mbs = (linesPerSec: number) => ((linesPerSec / LINES) * avg) / 1e6;
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  return [
    `### HTTP ingest: 100-line logplex bodies (${Math.round(avg).toLocaleString('en-US')} bytes), wrk -t1 -c16, ${seconds} s × ${rounds} rounds`,
    '',
    '| server | lines/s | MB/s | × discard server |',
    '|---|---:|---:|---:|',
    `| node:http, reads and discards the body | ${f(discard)} | ${mbs(discard).toFixed(0)} | 1.00× |`,
    `| drainmeter serve (hono, ingest, aggregate) | ${f(ours)} | ${mbs(ours).toFixed(0)} | ${median(ratios).toFixed(2)}× |`,
    ...(['credentials', 'workers', 'redis'] as const)
      .filter((w) => results[w] !== undefined)
      .map((w) => {
        const lps = median(results[w]);
        const label = {
          credentials: 'the same with DRAINMETER_SECRETS, drain credentials on every request (as deployed)',
          workers: 'DRAINMETER_WORKERS=2 (a primary merging two workers)',
          redis: 'one process with REDIS_URL (a real redis-server on the same machine)',
        }[w];
        return `| ${label} | ${f(lps)} | ${mbs(lps).toFixed(0)} | ${median(results[w].map((x, i) => x / results.discard[i])).toFixed(2)}× |`;
      }),
  ].join('\n');
}
