// `text/plain`: one line per LF, in any format of docs/conventions.md.

import { ingestText } from '../ingest.js';
import type { InputFormat } from './format.js';

export const text: InputFormat = {
  name: 'text',
  path: '/logs',
  contentTypes: ['text/plain'],
  read(ingest, chunks, size, maxLine) {
    ingestText(ingest, chunks, maxLine);
    const lines = ingest.stats.lines;
    return { lines, rejected: 0, error: lines > 0 ? null : size === 0 ? 'empty body' : 'no line in the body' };
  },
};
