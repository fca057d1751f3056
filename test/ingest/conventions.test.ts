import { describe, expect, it } from 'vitest';
import { APP_METRICS, cliLine, L10, POSTGRES, R14, REDIS, ROUTER_H10, ROUTER_H12, ROUTER_INFO, RUNTIME_LOAD, RUNTIME_MEMORY, syslog } from '../../fixtures/heroku.js';
import { feedLines, named, newRun, NOW, type Run } from '../helpers.js';
import { ENTRY_BYTES } from '../../src/ingest/names.js';
import { Budget, NAMES } from '../../src/model/index.js';

const TS = '2026-11-22T10:00:01.123456+00:00';
const T = Date.UTC(2026, 10, 22, 10, 0, 1) + 123.456;

function run(lines: string[], app = 'default', prefix = ''): Run {
  const r = newRun();
  feedLines(r, lines, app, prefix);
  return r;
}

function values(r: Run, name: string): number[] {
  return named(r.sink.seen, name).map((o) => o.value);
}

describe('l2met keys (docs/conventions.md)', () => {
  it('turns measure#, count# and sample# into a measure, a counter and a sample', () => {
    const r = run(['measure#db.latency=21ms count#orders.created=1 sample#queue.depth=7']);
    expect(r.sink.seen.map((o) => [o.name, o.kind, o.value])).toEqual([
      ['db_latency_seconds', 'measure', 21 / 1000],
      ['orders_created_total', 'counter', 1],
      ['queue_depth', 'sample', 7],
    ]);
  });

  it('reads the legacy measure.NAME= as a measure of the same name', () => {
    const r = run(['measure.db.latency=21ms', 'measure#db.latency=4ms']);
    expect(values(r, 'db_latency_seconds')).toEqual([21 / 1000, 4 / 1000]);
  });

  it('counts 1 for a bare count# key and for an empty value, and adds a given value', () => {
    const r = run(['count#x', 'count#x=', 'count#x=3', 'count#x=""']);
    expect(values(r, 'x_total')).toEqual([1, 1, 3, 1]);
  });

  it('labels every metric of a line with source=, even when source comes last', () => {
    const r = run(['measure#a=1 count#b=2 source=worker.2', 'source=web.1 sample#c=3', 'sample#c=4']);
    expect(r.sink.seen.map((o) => [o.name, o.labels])).toEqual([
      ['a', { source: 'worker.2' }],
      ['b_total', { source: 'worker.2' }],
      ['c', { source: 'web.1' }],
      ['c', {}],
    ]);
  });

  it('does not read a measure# inside a quoted value as a metric', () => {
    const r = run(['msg="measure#fake=1ms count#fake" count#real=1']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['real_total']);
  });

  it('reads a quoted metric value', () => {
    expect(values(run(['measure#q="5ms"']), 'q_seconds')).toEqual([0.005]);
  });

  it.each([
    ['measure#v=-4.5', 'v', -4.5],
    ['measure#v=1.5e3ms', 'v_seconds', 1.5],
    ['sample#v=8945836.0bytes', 'v_bytes', 8945836],
    ['sample#v=4045592.0kB', 'v_bytes', 4045592 * 1024],
    ['sample#v=50%', 'v_percent', 50],
    ['sample#v=348836pages', 'v_pages', 348836],
  ])('reads %s', (line, name, value) => {
    expect(values(run([line]), name)).toEqual([value]);
  });

  it.each([
    ['ns', '_seconds', 1 / 1e9],
    ['us', '_seconds', 1 / 1e6],
    ['µs', '_seconds', 1 / 1e6],
    ['ms', '_seconds', 1 / 1e3],
    ['s', '_seconds', 1],
    ['B', '_bytes', 1],
    ['byte', '_bytes', 1],
    ['bytes', '_bytes', 1],
    ['kB', '_bytes', 1024],
    ['KB', '_bytes', 1024],
    ['KiB', '_bytes', 1024],
    ['MB', '_bytes', 1024 ** 2],
    ['MiB', '_bytes', 1024 ** 2],
    ['GB', '_bytes', 1024 ** 3],
    ['GiB', '_bytes', 1024 ** 3],
    ['%', '_percent', 1],
    ['req', '_req', 1],
    ['', '', 1],
  ])('converts unit %j to base units, suffix %j', (unit, suffix, factor) => {
    const r = run([`measure#u=3${unit}`]);
    expect(r.sink.seen.map((o) => o.name)).toEqual([`u${suffix}`]);
    expect(r.sink.seen[0].value).toBeCloseTo(3 * factor, 12);
  });

  it('converts to base units with one rounding: 21ms is 0.021 and 4.2ms is 0.0042', () => {
    expect(values(run(['measure#t=21ms measure#t=4.2ms measure#t=1.5e3ms measure#t=250us']), 't_seconds')).toEqual([0.021, 0.0042, 1.5, 0.00025]);
    // A bare line that only says `heroku router` has no header: it is no router line.
    const bare = run(['heroku router connect=4.2ms']);
    expect(bare.sink.seen).toEqual([]);
    expect(bare.ingest.stats.lines).toBe(1);
  });

  it('names metrics as the spec does', () => {
    const r = run(['measure#db.latency=21ms count#bytes.sent=2kB sample#memory_total=21.00MB']);
    expect(r.sink.seen.map((o) => [o.name, o.value])).toEqual([
      ['db_latency_seconds', 0.021],
      ['bytes_sent_bytes_total', 2048],
      ['memory_total_bytes', 21 * 1024 * 1024],
    ]);
  });

  it('replaces characters outside [a-zA-Z0-9_:] and prefixes a leading digit', () => {
    const r = run(['count#5xx.errors=1 sample#active-connections=2 sample#a:b/c=3 sample#héllo=4']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['_5xx_errors_total', 'active_connections', 'a:b_c', 'h_llo']);
  });

  it('puts the drain prefix and a dot before the name', () => {
    const r = run(['measure#db.latency=21ms count#n'], 'shop', 'prod.eu');
    expect(r.sink.seen.map((o) => o.name)).toEqual(['prod_eu_db_latency_seconds', 'prod_eu_n_total']);
  });

  it('adds no second unit suffix or _total when the name has it already', () => {
    const r = run(['measure#latency_seconds=2s count#requests_total=1']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['latency_seconds', 'requests_total']);
  });

  it('rejects NaN, 0x10 and abc, counts them, and still reads the rest of the line', () => {
    const r = run(['measure#a=NaN measure#b=0x10 sample#c=abc count#d=5req/s measure#ok=1 sample#inf=Infinity']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['ok']);
    expect(r.ingest.stats.rejections()).toEqual({ bad_value: 5 });
  });

  it('rejects a metric with no value, an empty name, and a negative count', () => {
    const r = run(['measure#a sample#b= measure#=5 count#c=-1 count#d=2']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['d_total']);
    expect(r.ingest.stats.rejections()).toEqual({ bad_value: 3, bad_name: 1 });
  });

  it('keeps the first kind of a name within an app, and counts the rest as type_conflict; another app is free', () => {
    const r = newRun();
    feedLines(r, ['sample#depth=1'], 'one');
    feedLines(r, ['measure#depth=2 count#depth_total=1'], 'two');
    feedLines(r, ['sample#depth=3 count#depth=4'], 'two');
    // App two's measure#depth is its own, whatever app one holds; then its counter
    // depth_total (the family `depth` in OpenMetrics, with depth_created) clashes with
    // the summary, and so do its sample#depth and count#depth.
    expect(r.sink.seen.map((o) => [o.app, o.name, o.value])).toEqual([
      ['one', 'depth', 1],
      ['two', 'depth', 2],
    ]);
    expect(r.ingest.stats.rejections()).toEqual({ type_conflict: 3 });
  });

  it('builds a metric name string once, however many lines use it', () => {
    const r = newRun();
    const names = r.ingest.nameTable(r.tenant('default'), '');
    feedLines(r, Array(100).fill(APP_METRICS));
    expect(names?.built).toBe(4);
    expect(r.sink.seen).toHaveLength(400);
  });

  it('refuses new names past the name budget, as series_limit, and keeps known ones', () => {
    // Room for two one-letter keys of the app's share (ENTRY_BYTES and the key's bytes each).
    const r = newRun({ names: new Budget(NAMES, 1e9, 2 * (ENTRY_BYTES + 1)) });
    feedLines(r, ['count#a count#b', 'count#c count#a']);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['a_total', 'b_total', 'a_total']);
    expect(r.ingest.stats.rejections()).toEqual({ series_limit: 1 });
  });

  it('counts every line, with metrics or without', () => {
    const r = run(['plain text', 'at=info', 'count#x']);
    expect(r.ingest.stats.lines).toBe(3);
  });
});

describe('time', () => {
  it('takes a line time from its header, and bare lines at their arrival', () => {
    const r = run([syslog(TS, 'app', 'web.1', 'count#a').trimEnd(), 'count#b', `${TS} app[web.1]: count#c`]);
    expect(r.sink.seen.map((o) => o.time)).toEqual([T, NOW, T]);
  });

  it('uses the arrival time for an unreadable timestamp, and counts it', () => {
    const r = run(['<14>1 2026-02-30T99:00:00Z host app web.1 - count#a']);
    expect(r.sink.seen.map((o) => o.time)).toEqual([NOW]);
    expect(r.ingest.stats.rejections()).toEqual({ bad_timestamp: 1 });
  });

  it('reads a coloured `heroku logs -t` line as its syslog form', () => {
    const fromCli = run([cliLine(TS, 'app', 'web.1', APP_METRICS)]).sink.seen;
    const fromSyslog = run([syslog(TS, 'app', 'web.1', APP_METRICS).trimEnd()]).sink.seen;
    expect(fromCli).toEqual(fromSyslog);
    expect(fromCli).toHaveLength(4);
  });
});

describe('Heroku platform lines', () => {
  it('turns a router line into a request count and connect, service and size measures', () => {
    const r = run([syslog(TS, 'heroku', 'router', ROUTER_INFO).trimEnd()], 'shop');
    expect(r.sink.seen.map((o) => [o.name, o.kind, o.labels, o.value])).toEqual([
      ['heroku_router_requests_total', 'counter', { dyno: 'web.1', status: '201' }, 1],
      ['heroku_router_connect_seconds', 'measure', { dyno: 'web.1' }, 0.001],
      ['heroku_router_service_seconds', 'measure', { dyno: 'web.1' }, 0.037],
      ['heroku_router_response_bytes', 'measure', { dyno: 'web.1' }, 1548],
    ]);
    expect(r.sink.seen.every((o) => o.app === 'shop' && o.time === T)).toBe(true);
  });

  it('adds a router error count by code for an H12', () => {
    const r = run([syslog(TS, 'heroku', 'router', ROUTER_H12).trimEnd()]);
    expect(named(r.sink.seen, 'heroku_router_errors_total').map((o) => o.labels)).toEqual([{ dyno: 'web.2', code: 'H12' }]);
    expect(named(r.sink.seen, 'heroku_router_requests_total').map((o) => o.labels)).toEqual([{ dyno: 'web.2', status: '503' }]);
    expect(values(r, 'heroku_router_service_seconds')).toEqual([30.001]);
  });

  it('counts an H10 with empty timings, without measures or rejections', () => {
    const r = run([syslog(TS, 'heroku', 'router', ROUTER_H10).trimEnd()]);
    expect(r.sink.seen.map((o) => [o.name, o.labels])).toEqual([
      ['heroku_router_requests_total', { status: '503' }],
      ['heroku_router_errors_total', { code: 'H10' }],
    ]);
    expect(r.ingest.stats.rejectedTotal()).toBe(0);
  });

  it('counts R14 by dyno and code', () => {
    const r = run([syslog(TS, 'heroku', 'web.1', R14).trimEnd(), syslog(TS, 'heroku', 'worker.3', 'Error R10 (Boot timeout)').trimEnd()]);
    expect(r.sink.seen.map((o) => [o.name, o.labels, o.value])).toEqual([
      ['heroku_dyno_errors_total', { dyno: 'web.1', code: 'R14' }, 1],
      ['heroku_dyno_errors_total', { dyno: 'worker.3', code: 'R10' }, 1],
    ]);
  });

  it('adds the number of messages an L10 says logplex dropped', () => {
    const r = run([syslog(TS, 'heroku', 'logplex', L10).trimEnd()]);
    expect(r.sink.seen.map((o) => [o.name, o.labels, o.value])).toEqual([['heroku_logplex_dropped_total', { code: 'L10' }, 7]]);
  });

  it("reads the newer L10's count, not the digits inside its drain id", () => {
    const l10 = "Error L10 (output buffer overflow): drain 'd.cfcd3264-7259-4b12-ac5b-016032978174' dropped 1 messages since 2020-06-12T14:40:59.280571+00:00.";
    const r = run([syslog(TS, 'heroku', 'logplex', l10).trimEnd()]);
    expect(r.sink.seen.map((o) => [o.name, o.labels, o.value])).toEqual([['heroku_logplex_dropped_total', { code: 'L10' }, 1]]);
  });

  it('counts an H27 (a warning) as a router error by dyno and code', () => {
    const h27 =
      'sock=client at=warning code=H27 desc="Client Request Interrupted" method=POST path="/submit/" host=myapp.herokuapp.com fwd=17.17.17.17 dyno=web.1 connect=1ms service=0ms status=499 bytes=0';
    const r = run([syslog(TS, 'heroku', 'router', h27).trimEnd()]);
    expect(named(r.sink.seen, 'heroku_router_errors_total').map((o) => [o.labels, o.value])).toEqual([[{ dyno: 'web.1', code: 'H27' }, 1]]);
    expect(named(r.sink.seen, 'heroku_router_requests_total').map((o) => o.labels)).toEqual([{ dyno: 'web.1', status: '499' }]);
  });

  it('reads runtime metrics into heroku_dyno_* labelled by the dyno (source=), not its uuid', () => {
    const r = run([syslog(TS, 'heroku', 'web.1', RUNTIME_LOAD).trimEnd(), syslog(TS, 'heroku', 'web.1', RUNTIME_MEMORY).trimEnd()]);
    expect(r.sink.seen.map((o) => [o.name, o.value])).toEqual([
      ['heroku_dyno_load_avg_1m', 2.46],
      ['heroku_dyno_load_avg_5m', 1.91],
      ['heroku_dyno_load_avg_15m', 1.58],
      ['heroku_dyno_memory_total_bytes', 21 * 1024 ** 2],
      ['heroku_dyno_memory_rss_bytes', 21.22 * 1024 ** 2],
      ['heroku_dyno_memory_cache_bytes', 0],
      ['heroku_dyno_memory_swap_bytes', 0],
      ['heroku_dyno_memory_pgpgin_pages', 348836],
      ['heroku_dyno_memory_pgpgout_pages', 343403],
      ['heroku_dyno_memory_quota_bytes', 512 * 1024 ** 2],
    ]);
    expect(r.sink.seen.every((o) => o.kind === 'sample' && JSON.stringify(o.labels) === '{"dyno":"web.1"}')).toBe(true);
  });

  it('reads Postgres and Redis metrics into their own families, labelled by source and addon', () => {
    const r = run([syslog(TS, 'app', 'heroku-postgres', POSTGRES).trimEnd(), syslog(TS, 'app', 'heroku-redis', REDIS).trimEnd()]);
    expect(values(r, 'heroku_postgres_db_size_bytes')).toEqual([4045592 * 1024]);
    expect(values(r, 'heroku_postgres_index_cache_hit_rate')).toEqual([0.99997]);
    expect(values(r, 'heroku_postgres_tmp_disk_used_bytes')).toEqual([543600640]);
    expect(values(r, 'heroku_redis_memory_redis_bytes')).toEqual([8945836]);
    expect(named(r.sink.seen, 'heroku_postgres_active_connections').map((o) => o.labels)).toEqual([{ source: 'DATABASE', addon: 'postgresql-curved-12345' }]);
    expect(named(r.sink.seen, 'heroku_redis_active_connections').map((o) => o.labels)).toEqual([{ source: 'REDIS', addon: 'redis-rigid-45678' }]);
    expect(r.ingest.stats.rejectedTotal()).toBe(0);
  });

  it('refuses counters and measures forged into a platform line', () => {
    const r = run([syslog(TS, 'heroku', 'web.1', 'source=web.1 count#x=1 measure#y=2 sample#memory_rss=1MB').trimEnd()]);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['heroku_dyno_memory_rss_bytes']);
    expect(r.ingest.stats.rejections()).toEqual({ reserved_name: 2 });
  });

  it('reads app lines named heroku-something, or not from heroku, as l2met only', () => {
    const r = run([syslog(TS, 'app', 'router', 'count#x Error R14'), syslog(TS, 'herokuapp', 'router', ROUTER_INFO)]);
    expect(r.sink.seen.map((o) => o.name)).toEqual(['x_total']);
  });
});
