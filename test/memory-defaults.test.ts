// The series' default follows the memory the dyno has (docs/limits.md).

import { describe, expect, it } from 'vitest';
import { configFrom, memoryMb, parseArgs } from '../src/config.js';
import { seriesForMemory } from '../src/model/index.js';

const files = (map: Record<string, string>) => (path: string) => {
  if (path in map) return map[path];
  throw new Error(`ENOENT: ${path}`);
};

describe('memoryMb', () => {
  it("reads Heroku's MEMORY_AVAILABLE first, then cgroup v2, then v1", () => {
    expect(memoryMb({ MEMORY_AVAILABLE: '512' }, files({ '/sys/fs/cgroup/memory.max': '1073741824' }))).toBe(512);
    expect(memoryMb({}, files({ '/sys/fs/cgroup/memory.max': '1073741824\n' }))).toBe(1024);
    expect(memoryMb({}, files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '536870912' }))).toBe(512);
  });

  it('knows no limit when none is set', () => {
    expect(memoryMb({}, files({ '/sys/fs/cgroup/memory.max': 'max' }))).toBeNull();
    expect(memoryMb({}, files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }))).toBeNull();
    expect(memoryMb({ MEMORY_AVAILABLE: '' }, files({}))).toBeNull();
    expect(memoryMb({ MEMORY_AVAILABLE: 'lots' }, files({}))).toBeNull();
  });
});

describe('the series default', () => {
  it('is one series for each 10 KB above 96 MB, in thousands, from 1,000 to 100,000', () => {
    // (512 - 96) MB / 10 KB = 42,598.4
    expect(seriesForMemory(512)).toBe(42_000);
    // (1024 - 96) MB / 10 KB = 95,027.2
    expect(seriesForMemory(1024)).toBe(95_000);
    expect(seriesForMemory(2560)).toBe(100_000);
    expect(seriesForMemory(64)).toBe(1000);
    expect(seriesForMemory(null)).toBe(100_000);
  });

  it('is what serve gets on a Standard-1X, and a value given wins', () => {
    expect(configFrom(parseArgs([], { MEMORY_AVAILABLE: '512' }).values).maxSeries).toBe(42_000);
    expect(configFrom(parseArgs([], { MEMORY_AVAILABLE: '512', DRAINMETER_MAX_SERIES: '70000' }).values).maxSeries).toBe(70_000);
    expect(configFrom(parseArgs(['--max-series', '5000'], { MEMORY_AVAILABLE: '512' }).values).maxSeries).toBe(5000);
  });
});
