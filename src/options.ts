// What an option is, and the error a bad one raises: shared by config.ts, which
// gathers every option, and the modules that declare their own (outlets).

export class ConfigError extends Error {
  readonly code = 'DRAINMETER_BAD_CONFIG';
}

/** One option: a flag and an environment variable (`--max-series` ⇔ DRAINMETER_MAX_SERIES). */
export interface Option {
  flag: string;
  env: string;
  describe: string;
  default: string;
}

/** A whole number option from `values`, or a ConfigError naming it. */
export function integerOption(values: ReadonlyMap<string, string>, o: Option, min: number, max: number): number {
  const text = values.get(o.flag) ?? o.default;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new ConfigError(`${o.env} (--${o.flag}) must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return n;
}
