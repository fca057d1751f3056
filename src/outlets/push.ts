// What every push outlet shares (SPEC §7): the `instance` every pushed series
// carries, the bound of a queue waiting to be sent, and the backoff between retries.

import { hostname } from 'node:os';
import type { Option } from '../options.js';

export const INSTANCE: Option = {
  flag: 'instance',
  env: 'DRAINMETER_INSTANCE',
  describe: "the instance label of pushed series (default: Heroku's DYNO, else the host name)",
  default: '',
};

/** The instance of this process: DRAINMETER_INSTANCE, else DYNO (web.1), else the host name. */
export function instanceOf(values: ReadonlyMap<string, string>): string {
  const given = values.get(INSTANCE.flag) ?? '';
  if (given !== '') return given;
  const dyno = process.env.DYNO;
  return dyno !== undefined && dyno !== '' ? dyno : hostname();
}

/** Bytes a push outlet's queue may hold; past it, new data is dropped and counted. */
export const PUSH_QUEUE_BYTES = 16 * 1024 * 1024;

const BASE_MS = 500;
const MAX_MS = 30_000;

/** The wait before retry `attempt` (0, 1, …): exponential, capped, with full jitter. */
export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_MS, BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
