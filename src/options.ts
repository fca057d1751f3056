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
