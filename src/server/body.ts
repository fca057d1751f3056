// A request body as the Buffer chunks it arrived in (no copy into one ArrayBuffer),
// up to a limit. From the Node request when the server is @hono/node-server; from the
// web stream otherwise (app.request() in tests). Nothing is parsed until the body is
// complete, so a body cut off or refused is never counted in part.

import type { IncomingMessage } from 'node:http';

export type Body = { chunks: Buffer[]; size: number } | 'too_large' | 'aborted';

export async function readBody(incoming: IncomingMessage | undefined, web: ReadableStream<Uint8Array> | null, max: number): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    if (incoming !== undefined) {
      for await (const chunk of incoming as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) return 'too_large';
        chunks.push(chunk);
      }
      // A client that went away mid-body ends the stream without an error on some paths.
      if (!incoming.complete) return 'aborted';
    } else if (web !== null) {
      const reader = web.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > max) {
          await reader.cancel();
          return 'too_large';
        }
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
    }
  } catch {
    return 'aborted';
  }
  return { chunks, size };
}
