// OTLP logs ingest (Heroku Fir's drains, POST /v1/logs) beside logplex ingest, over
// the same generated lines in 100-record bodies: the protobuf decoder over the bytes,
// and OTLP/JSON through JSON.parse. Logplex's own L10 lines are left out of the
// corpus (Fir has no logplex), for every row alike. Checked before timed: every
// path reads every line, rejects none and makes the same observations.

import { generate, syslogMessages } from '../fixtures/corpus.js';
import { logplexBody } from '../fixtures/heroku.js';
import { otlpBodies } from '../fixtures/otlp.js';
import { Ingest } from '../src/ingest/index.js';
import type { InputFormat } from '../src/ingest/formats/index.js';
import { FORMATS } from '../src/ingest/formats/index.js';
import { Tenant } from '../src/model/index.js';
import { CountingSink, check, measure, type Task, table } from './lib.js';

const format = (name: string): InputFormat => {
  const f = FORMATS.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no format ${name}`);
  return f;
};

export async function otlpBench(lineCount: number, rounds: number, time: number): Promise<string> {
  const lines = generate(lineCount, { seed: 42 }).filter((l) => l.proc !== 'logplex');
  const syslog = syslogMessages(lines);
  const paths: [string, InputFormat, Buffer[]][] = [];
  const logplex: Buffer[] = [];
  for (let i = 0; i < syslog.length; i += 100) logplex.push(logplexBody(syslog.slice(i, i + 100)));
  paths.push(['logplex bodies (application/logplex-1)', format('logplex'), logplex]);
  paths.push(['OTLP protobuf (application/x-protobuf)', format('otlp-protobuf'), otlpBodies(lines, 100, 'protobuf')]);
  paths.push(['OTLP JSON (application/json)', format('otlp-json'), otlpBodies(lines, 100, 'json')]);

  const tasks: Task[] = [];
  let observations = -1;
  for (const [name, f, bodies] of paths) {
    const sink = new CountingSink();
    const ingest = new Ingest(sink);
    const tenant = new Tenant('bench');
    const names = ingest.nameTable(tenant, '');
    if (names === null) throw new Error('no name table');
    const run = (): number => {
      ingest.begin(tenant, names, Date.UTC(2026, 10, 22, 10, 0, 0));
      let n = 0;
      for (let i = 0; i < bodies.length; i++) {
        ingest.stats.reset();
        n += f.read(ingest, [bodies[i]], bodies[i].length, 1 << 20).lines;
        check(ingest.stats.rejectedTotal() === 0, `${name}: rejections ${JSON.stringify(ingest.stats.rejections())}`);
      }
      return n;
    };
    const before = sink.n;
    check(run() === lines.length, `${name}: every line read`);
    if (observations < 0) observations = sink.n - before;
    check(sink.n - before === observations, `${name}: ${sink.n - before} observations, logplex made ${observations}`);
    tasks.push({ name, fn: run, lines: lines.length, bytes: bodies.reduce((n, b) => n + b.length, 0) });
  }
  const rows = await measure(tasks, tasks[0].name, rounds, time);
  return `### OTLP logs beside logplex: ${lines.length.toLocaleString('en-US')} generated lines, 100 a body, ingest into a counting sink\n\n${table(rows, 'logplex')}`;
}
