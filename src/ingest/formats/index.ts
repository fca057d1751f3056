// Every input format, by the route it arrives on and its content types.

import type { InputFormat } from './format.js';
import { logplex } from './logplex.js';
import { otlpJson } from './otlp-json.js';
import { otlpProtobuf } from './otlp-protobuf.js';
import { text } from './text.js';

export type { InputFormat, OtlpAnswers, ReadResult } from './format.js';

export const FORMATS: readonly InputFormat[] = [logplex, text, otlpProtobuf, otlpJson];

/** The formats of one route. */
export function formatsOf(path: InputFormat['path']): InputFormat[] {
  return FORMATS.filter((f) => f.path === path);
}

/** The format of a Content-Type header among `formats`, or undefined. */
export function formatFor(formats: readonly InputFormat[], contentType: string | undefined): InputFormat | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return formats.find((f) => f.contentTypes.includes(type));
}
