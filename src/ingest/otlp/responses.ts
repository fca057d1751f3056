// The OTLP answers to a logs request, in protobuf: ExportLogsServiceResponse with its
// partial success, and google.rpc.Status for a body that cannot be read. Small and
// once per request: built with Buffer.concat.

import { varintSize, writeVarint } from '../../model/varint.js';

/** ExportLogsServiceResponse, protobuf: empty when nothing was rejected. */
export function protoResponse(rejected: number, message: string): Buffer {
  if (rejected === 0) return Buffer.alloc(0);
  const msg = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08]), varintBytes(rejected), Buffer.from([0x12]), varintBytes(msg.length), msg]);
  return Buffer.concat([Buffer.from([0x0a]), varintBytes(inner.length), inner]);
}

/** google.rpc.Status { code = 1; message = 2 }, protobuf. */
export function protoStatus(code: number, message: string): Buffer {
  const msg = Buffer.from(message);
  return Buffer.concat([Buffer.from([0x08]), varintBytes(code), Buffer.from([0x12]), varintBytes(msg.length), msg]);
}

function varintBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(varintSize(n));
  writeVarint(out, 0, n);
  return out;
}
