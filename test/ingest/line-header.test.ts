import { describe, expect, it } from 'vitest';
import { cliLine } from '../../fixtures/heroku.js';
import { EscapeFinder, FORMAT_BARE, FORMAT_CLI, FORMAT_SYSLOG, LineHeader, parseAnyLine, parseSyslog, stripAnsi } from '../../src/ingest/index.js';

function fields(buf: Buffer, h: LineHeader) {
  return {
    format: h.format,
    time: h.time,
    badTime: h.badTime,
    app: buf.toString('utf8', h.appStart, h.appEnd),
    proc: buf.toString('utf8', h.procStart, h.procEnd),
    msg: buf.toString('utf8', h.msgStart, h.msgEnd),
  };
}

function syslog(text: string) {
  const buf = Buffer.from(text);
  const h = new LineHeader();
  const ok = parseSyslog(buf, 0, buf.length, h);
  return { ok, ...fields(buf, h) };
}

function any(text: string) {
  const buf = Buffer.from(text);
  const h = new LineHeader();
  parseAnyLine(buf, 0, buf.length, h);
  return fields(buf, h);
}

const T = Date.UTC(2026, 10, 22, 10, 0, 1) + 123.456;

describe('RFC 5424 header', () => {
  it('reads Heroku frames, which leave the structured-data field out', () => {
    expect(syslog('<158>1 2026-11-22T10:00:01.123456+00:00 host heroku router - at=info status=200\n')).toEqual({
      ok: true, format: FORMAT_SYSLOG, time: T, badTime: false, app: 'heroku', proc: 'router', msg: 'at=info status=200',
    });
  });

  it('reads a message that opens with an unbalanced [ as message text, not broken structured data', () => {
    // Regression: the whole frame was lost as bad_frame.
    expect(syslog('<190>1 2026-11-22T10:00:01.123456+00:00 host app web.1 - [ERROR count#x=1\n')).toMatchObject({
      ok: true, app: 'app', proc: 'web.1', msg: '[ERROR count#x=1',
    });
  });

  it('reads log-shuttle frames, with `-` for structured data', () => {
    expect(syslog('<190>1 2026-11-22T10:00:01.123456+00:00 host app web.1 - - count#x=1\n')).toMatchObject({
      ok: true, app: 'app', proc: 'web.1', msg: 'count#x=1',
    });
  });

  it('skips structured data elements, with escapes inside their values', () => {
    expect(syslog('<14>1 2026-11-22T10:00:01Z h app p id [meta a="x\\]y" b="2"][more c="3"] count#x=1')).toMatchObject({
      ok: true, app: 'app', proc: 'p', msg: 'count#x=1',
    });
  });

  it('drops a UTF-8 BOM at the start of the message', () => {
    expect(syslog('<14>1 2026-11-22T10:00:01Z h app p - - \ufeffcount#x=1').msg).toBe('count#x=1');
  });

  it('takes a `-` timestamp as no timestamp, and counts an unreadable one', () => {
    expect(syslog('<14>1 - h app p - - count#x=1')).toMatchObject({ ok: true, time: NaN, badTime: false, msg: 'count#x=1' });
    expect(syslog('<14>1 yesterday h app p - - count#x=1')).toMatchObject({ ok: true, time: NaN, badTime: true, msg: 'count#x=1' });
  });

  it('reads a message that is empty', () => {
    expect(syslog('<14>1 2026-11-22T10:00:01Z h app p -\n')).toMatchObject({ ok: true, msg: '' });
  });

  it.each(['count#x=1', '<14>1 2026-11-22T10:00:01Z h app', '<>1 2026-11-22T10:00:01Z h a p - m', '<1234567>1 t h a p - m', '<14>'])(
    'refuses %j',
    (text) => {
      expect(syslog(text).ok).toBe(false);
    },
  );
});

describe('any line (docs/conventions.md)', () => {
  it('reads `heroku logs -t` lines', () => {
    expect(any('2026-11-22T10:00:01.123456+00:00 app[web.1]: measure#x=1ms')).toEqual({
      format: FORMAT_CLI, time: T, badTime: false, app: 'app', proc: 'web.1', msg: 'measure#x=1ms',
    });
    expect(any('2026-11-22T10:00:01.123456+00:00 heroku[router]: at=info status=200')).toMatchObject({ app: 'heroku', proc: 'router' });
  });

  it('reads a timestamp followed by a message with no tag', () => {
    expect(any('2026-11-22T10:00:01.123456+00:00 count#x=1')).toMatchObject({ format: FORMAT_CLI, time: T, app: '', msg: 'count#x=1' });
  });

  it('reads RFC 5424 lines', () => {
    expect(any('<158>1 2026-11-22T10:00:01.123456+00:00 host heroku router - at=info')).toMatchObject({ format: FORMAT_SYSLOG, proc: 'router' });
  });

  it('reads bare logfmt, with no time of its own', () => {
    expect(any('measure#x=1 source=a')).toEqual({ format: FORMAT_BARE, time: NaN, badTime: false, app: '', proc: '', msg: 'measure#x=1 source=a' });
    expect(any('2026 was a good year count#x=1')).toMatchObject({ format: FORMAT_BARE, msg: '2026 was a good year count#x=1' });
    expect(any('<not syslog> count#x=1')).toMatchObject({ format: FORMAT_BARE, msg: '<not syslog> count#x=1' });
  });

  it('reads a coloured `heroku logs -t` line once its escapes are stripped', () => {
    const coloured = Buffer.from(cliLine('2026-11-22T10:00:01.123456+00:00', 'app', 'web.1', 'count#x=1'));
    const finder = new EscapeFinder();
    expect(finder.within(coloured, 0, coloured.length)).toBe(true);
    const out = Buffer.alloc(coloured.length);
    const n = stripAnsi(coloured, 0, coloured.length, out);
    expect(out.toString('utf8', 0, n)).toBe('2026-11-22T10:00:01.123456+00:00 app[web.1]: count#x=1');
  });

  it('finds escapes line by line in one buffer, and again in a reused buffer', () => {
    const buf = Buffer.from('plain=1\n\u001b[1mbold=1\u001b[0m\nplain=2\n');
    const finder = new EscapeFinder();
    expect(finder.within(buf, 0, 7)).toBe(false);
    expect(finder.within(buf, 8, 23)).toBe(true);
    expect(finder.within(buf, 24, 31)).toBe(false);
    buf.write('\u001b[1mx=1', 0);
    expect(finder.within(buf, 0, 7)).toBe(true);
  });
});
