// drainmeter's errors: one class per kind, each with a stable code, as undici's
// carry `UND_ERR_HEADERS_OVERFLOW`. The CLI ends a command on one by its code's row
// of ERROR_CODES (docs/cli.md#error-codes). A plain Error is a programming error:
// the CLI prints its stack and exits 1.

/**
 * Every code: the exit status of a command that ends on it, and whether the CLI
 * says only its message (one line on stderr) or, for a bug, its stack.
 */
export const ERROR_CODES = {
  /** A bad option, variable or rules file (ConfigError). */
  DRAINMETER_BAD_CONFIG: { exit: 2, oneLine: true },
  /** A command line the command does not take: an unknown flag, a stray word (UsageError). */
  DRAINMETER_BAD_USAGE: { exit: 2, oneLine: true },
  /** A port another process holds, or one this process may not take (PortBusyError). */
  DRAINMETER_PORT_BUSY: { exit: 2, oneLine: true },
  /** An input file that is missing, unreadable or not text (InputError). */
  DRAINMETER_BAD_INPUT: { exit: 2, oneLine: true },
  /** A drain `replay` cannot reach, or that refuses every batch (UnreachableError). */
  DRAINMETER_UNREACHABLE: { exit: 1, oneLine: true },
  /** A scale-out payload that is not one: our own processes wrote it, so a bug (WireError). */
  DRAINMETER_BAD_PAYLOAD: { exit: 1, oneLine: false },
} as const satisfies Record<string, { exit: number; oneLine: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The base of drainmeter's errors: `code` names the kind, `message` says what to fix. */
export abstract class DrainmeterError extends Error {
  abstract readonly code: ErrorCode;
}

/** The code of one of drainmeter's errors, also one cloned from a worker (its `code` survives), else undefined. */
export function errorCode(err: unknown): ErrorCode | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : undefined;
}

/** A bad configuration value: one line naming the variable (docs/configuration.md). */
export class ConfigError extends DrainmeterError {
  readonly code: ErrorCode = 'DRAINMETER_BAD_CONFIG';
}

/** A command line the command does not take; the CLI adds the command's name and where its help is. */
export class UsageError extends ConfigError {
  override readonly code: ErrorCode = 'DRAINMETER_BAD_USAGE';
}

/** A port another process listens on: one line naming it, exit 2 (docs/cli.md). */
export class PortBusyError extends DrainmeterError {
  readonly code = 'DRAINMETER_PORT_BUSY';
}

/** A file the command cannot read as lines: one line, exit 2. */
export class InputError extends DrainmeterError {
  readonly code = 'DRAINMETER_BAD_INPUT';
}

/** A drain that cannot be reached at all: said at once, not after every batch's retries. */
export class UnreachableError extends DrainmeterError {
  readonly code = 'DRAINMETER_UNREACHABLE';
}

/** A scale-out payload cut short or malformed (scale/wire.ts, scale/delta.ts). */
export class WireError extends DrainmeterError {
  readonly code = 'DRAINMETER_BAD_PAYLOAD';
}
