// Receivers joined through Redis (docs/scale-out.md): the link and what its callers use.

export { CLAIM_TIMEOUT_MS, WRITE_TIMEOUT_MS } from './connections.js';
export { type Joined } from './loops.js';
export { RedisLink, type RedisLinkOptions } from './link.js';
export { MAX_REFUSALS, QUEUE_BYTES } from './queue.js';
export { STREAM_BYTES } from './scripts.js';
export { START_TIMEOUT_MS } from './status.js';
