// The files `tail` and `replay` read, looked at before anything starts: one that is
// not there, cannot be read or is binary is refused with one line (exit 2, as a bad
// flag is: docs/cli.md); a gzip file (magic bytes 1f 8b, whatever its name) is read
// through node:zlib.

import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from './model/errors.js';

/** How much of a file's start is looked at for NULs and invalid UTF-8. */
const SNIFF = 1024;

const WHY: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'no such file' };

export interface InputKind {
  gzip: boolean;
}

/** Whether `file` can be read as lines, and whether it is gzip; InputError otherwise. */
export function inspectInput(file: string): InputKind {
  let fd: number;
  const head = Buffer.alloc(SNIFF);
  let n = 0;
  try {
    fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, SNIFF, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot read ${file}: ${WHY[code] ?? (err as Error).message}`);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { gzip: true };
  const start = head.subarray(0, n);
  let text = true;
  if (start.includes(0)) text = false;
  else {
    try {
      // stream: a character cut at the 1 KB mark is not an error.
      new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
    } catch {
      text = false;
    }
  }
  if (!text) throw new InputError(`${file} is not text (NUL bytes or invalid UTF-8 in its first ${SNIFF} bytes): give a log file, plain or gzip`);
  return { gzip: false };
}

/** The file's bytes, inflated when it is gzip. */
export function openInput(file: string, kind: InputKind, highWaterMark = 1 << 20): Readable {
  const raw = createReadStream(file, { highWaterMark });
  return kind.gzip ? raw.pipe(createGunzip()) : raw;
}
