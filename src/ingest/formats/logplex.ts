// `application/logplex-1`: octet-counted RFC 5424 frames (docs/http-api.md).

import { ingestLogplex } from '../ingest.js';
import type { InputFormat } from './format.js';

export const logplex: InputFormat = {
  name: 'logplex',
  path: '/logs',
  contentTypes: ['application/logplex-1'],
  read(ingest, chunks, size, maxLine) {
    const reader = ingestLogplex(ingest, chunks, maxLine);
    const lines = ingest.stats.lines;
    const error = lines > 0 ? null : size === 0 ? 'empty body' : (reader.err ?? 'no RFC 5424 frame in the body');
    return { lines, rejected: 0, error };
  },
};
