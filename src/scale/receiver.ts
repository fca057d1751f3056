// The scale-out seam (docs/scale-out.md): what a serving process is given when its
// numbers go elsewhere (a primary's hub, Redis) instead of its own /metrics and
// outlets. `serve` (server/serve.ts) takes a Receiver and hands over every tick;
// the process wiring (src/cluster.ts) makes one per worker. Defined here, below the
// server, so the server imports the seam and scale/ never imports the server.

import type { Tenant } from '../model/index.js';
import type { Look } from '../outlets/look.js';
import type { Rendering } from '../outlets/prometheus.js';

/**
 * Decides whether a batch's Logplex-Frame-Id is new for its app, and remembers it:
 * false for a retry of a batch accepted in the last 10 minutes. Local by default;
 * scale-out asks the primary and Redis (scale/).
 */
export interface FrameGate {
  claim(app: Tenant, id: string): boolean | Promise<boolean>;
}

/** The exposition for one app or (null) all, in either format. */
export type Render = (scope: string | null, openMetrics: boolean) => Promise<Rendering>;

/**
 * Where this process's numbers go instead of its own /metrics and outlets. It
 * collects with an exporting pipeline and hands over every tick; Frame-Ids are
 * decided and /metrics and the dashboard rendered elsewhere.
 */
export interface Receiver {
  frames: FrameGate;
  render: Render;
  look: Look;
  /** What the process collected since the last hand-over (a delta payload). */
  handOver(payload: Buffer): void;
  /** Series whose changes wait for a later hand-over (their app's share was full), after each. */
  waiting?(series: number): void;
  /** Why the process is not ready yet (healthz and /metrics answer 503), or null. */
  starting?(): string | null;
  /** After the last hand-over at stop: flush what is downstream by the deadline. */
  stop?(deadline: number): Promise<void>;
  /** A release line (docs/history.md), for the history kept elsewhere. */
  release?(app: string, time: number, text: string): void;
  /** Said in the listening line (`worker=2`). */
  fields?: Record<string, string | number>;
}
