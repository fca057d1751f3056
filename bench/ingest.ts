// Ingest throughput on a generated drain (fixtures/corpus.ts): our tokenizer against
// the logfmt package and a scan-only indexOf floor over the same messages, and the
// whole path (frames + syslog headers + tokenizer + conventions) over 100-line
// logplex bodies. Every contender is checked for correctness before it is timed.

import logfmt from 'logfmt';
import { generate, syslogMessages } from '../fixtures/corpus.js';
import { logplexBody } from '../fixtures/heroku.js';
import { Ingest, ingestLogplex, Tokenizer } from '../src/ingest/index.js';
import { Tenant } from '../src/model/index.js';
import { CountingSink, check, measure, type Task, table } from './lib.js';

export async function ingestBench(lineCount: number, rounds: number, time: number): Promise<string> {
  const lines = generate(lineCount, { seed: 42 });
  const messages = lines.map((l) => l.message);
  const messageBuf = Buffer.from(messages.join('\n'));
  const offsets: number[] = [];
  for (let i = 0, at = 0; i < messages.length; i++) {
    const len = Buffer.byteLength(messages[i]);
    offsets.push(at, at + len);
    at += len + 1;
  }
  const syslog = syslogMessages(lines);
  const bodies: Buffer[] = [];
  for (let i = 0; i < syslog.length; i += 100) bodies.push(logplexBody(syslog.slice(i, i + 100)));
  const bodyBytes = bodies.reduce((n, b) => n + b.length, 0);

  const tok = new Tokenizer();
  const tokenize = (): number => {
    let keys = 0;
    for (let i = 0; i < offsets.length; i += 2) {
      tok.reset(messageBuf, offsets[i], offsets[i + 1]);
      while (tok.next()) keys += tok.keyEnd - tok.keyStart;
    }
    return keys;
  };
  const parseLogfmt = (): number => {
    let keys = 0;
    for (let i = 0; i < messages.length; i++) for (const k in logfmt.parse(messages[i])) keys += k.length;
    return keys;
  };
  const scan = (): number => {
    let spaces = 0;
    for (let i = 0; i < offsets.length; i += 2) {
      const end = offsets[i + 1];
      for (let j = messageBuf.indexOf(0x20, offsets[i]); j !== -1 && j < end; j = messageBuf.indexOf(0x20, j + 1)) spaces++;
    }
    return spaces;
  };
  const sink = new CountingSink();
  const ingest = new Ingest(sink);
  const tenant = new Tenant('bench');
  const names = ingest.nameTable(tenant, '');
  if (names === null) throw new Error('no name table');
  const endToEnd = (): number => {
    ingest.begin(tenant, names, Date.UTC(2026, 10, 22, 10, 0, 0));
    for (let i = 0; i < bodies.length; i++) ingestLogplex(ingest, [bodies[i]], 1 << 20);
    return sink.n;
  };

  // Correctness first: the tokenizer must find logfmt's keys on every logfmt message
  // (plain-text lines differ on quotes inside bare words, a documented difference),
  // and the whole path must read every line and reject none.
  for (const m of messages) {
    if (!m.includes('=')) continue;
    const buf = Buffer.from(m);
    const ours: string[] = [];
    tok.reset(buf, 0, buf.length);
    while (tok.next()) ours.push(buf.toString('utf8', tok.keyStart, tok.keyEnd));
    const theirs = Object.keys(logfmt.parse(m));
    check(new Set(ours).size === theirs.length && theirs.every((k) => ours.includes(k)), `keys of ${m}`);
  }
  ingest.stats.reset();
  endToEnd();
  check(ingest.stats.lines === lineCount, `lines read ${ingest.stats.lines} of ${lineCount}`);
  check(ingest.stats.rejectedTotal() === 0, `rejections ${JSON.stringify(ingest.stats.rejections())}`);

  const msgBytes = messageBuf.length - (messages.length - 1);
  const tasks: Task[] = [
    { name: 'logfmt.parse (messages)', fn: parseLogfmt, lines: lineCount, bytes: msgBytes },
    { name: 'indexOf scan, no parsing (messages)', fn: scan, lines: lineCount, bytes: msgBytes },
    { name: 'drainmeter tokenizer (messages)', fn: tokenize, lines: lineCount, bytes: msgBytes },
    { name: 'drainmeter frames+headers+tokenizer+conventions (logplex bodies)', fn: endToEnd, lines: lineCount, bytes: bodyBytes },
  ];
  const rows = await measure(tasks, tasks[0].name, rounds, time);
  const avg = (bodyBytes / lineCount).toFixed(0);
  return `### Ingest: ${lineCount.toLocaleString('en-US')} generated lines, ${avg} bytes a framed line, 100-line bodies\n\n${table(rows, 'logfmt.parse')}`;
}
