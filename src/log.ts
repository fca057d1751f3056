// drainmeter's own events, as logfmt on stdout (docs/http-api.md): `at=info msg=listening port=8080`.

import { printable } from './model/printable.js';

export type Fields = Record<string, string | number | boolean | undefined>;

/** Whitespace, `=`, quotes, backslashes and control characters make a value quoted. */
const NEEDS_QUOTES = /[\s="\\\u0000-\u001f\u007f-\u009f]/;

/** A logfmt value: quoted where it must be, and never terminal control (model/printable.ts). */
function quote(v: string): string {
  return v === '' || NEEDS_QUOTES.test(v) ? `"${printable(v.replace(/["\\]/g, (c) => '\\' + c).replace(/\n/g, '\\n'))}"` : v;
}

export function logfmt(at: string, msg: string, fields: Fields = {}): string {
  let line = `at=${at} msg=${quote(msg)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${printable(k)}=${quote(String(v))}`;
  return line;
}

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function stdoutLogger(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  return {
    info: (msg, fields) => write(logfmt('info', msg, fields)),
    warn: (msg, fields) => write(logfmt('warn', msg, fields)),
    error: (msg, fields) => write(logfmt('error', msg, fields)),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
