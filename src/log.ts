// drainmeter's own events, as logfmt on stdout (SPEC §3): `at=info msg=listening port=8080`.

export type Fields = Record<string, string | number | boolean | undefined>;

function quote(v: string): string {
  return v === '' || /[\s="\\]/.test(v) ? `"${v.replace(/["\\]/g, (c) => '\\' + c).replace(/\n/g, '\\n')}"` : v;
}

export function logfmt(at: string, msg: string, fields: Fields = {}): string {
  let line = `at=${at} msg=${quote(msg)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
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
