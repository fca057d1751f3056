// Claims every receiver shares through Redis, on the claims connection: a batch's
// Frame-Id (frame-ids.ts; given up after CLAIM_TIMEOUT_MS, when this receiver's
// memory decides) and an app's name for a metric kind (scale/kinds.ts, CLAIM_KIND).

import type { Redis } from 'ioredis';
import { decodeDef, encodeDef, type KindDef, staleAfterS } from '../kinds.js';
import type { Claiming } from './connections.js';
import { APP_FULL, claimArgs, RETRY } from './frame-ids.js';
import { APPS, defsKey, STREAM } from './keys.js';
import type { LinkStatus } from './status.js';

export class Claims {
  /** Frame-Ids decided by this receiver's memory alone: their app's share (or the total) in Redis was full. */
  frameIdsLocal = 0;
  private readonly conn: Redis & Claiming;
  private readonly origin: string;
  private readonly appTtlS: number;
  private readonly status: LinkStatus;

  constructor(conn: Redis & Claiming, origin: string, appTtlS: number, status: LinkStatus) {
    this.conn = conn;
    this.origin = origin;
    this.appTtlS = appTtlS;
    this.status = status;
  }

  /**
   * True when no receiver accepted this batch id for the app in the last 10 minutes;
   * true also when Redis cannot tell in time or keeps no more of the app's ids (this
   * receiver's memory has decided already).
   */
  async claim(app: string, id: string): Promise<boolean> {
    try {
      const r = await this.conn.dmClaim(...claimArgs(app, id));
      if (r === RETRY) return false;
      if (r !== 1) {
        this.frameIdsLocal++;
        this.status.warn(`ids ${app}`, 'redis: Frame-Id share full, ids decided by this receiver alone', { app, share: r === APP_FULL ? 'app' : 'total' });
      }
      return true;
    } catch (err) {
      this.status.down((err as Error).message);
      return true;
    }
  }

  /**
   * Claims a name for an app (scale/kinds.ts); resolves with the claim Redis holds, null
   * when Redis cannot tell in time (the payload's script decides then).
   */
  async claimKind(d: KindDef): Promise<KindDef | null> {
    try {
      const def = encodeDef(d);
      const entry = JSON.stringify([d.app, d.name, def]);
      const cur = await this.conn.dmClaimKind(3, defsKey(d.app), STREAM, APPS, d.app, d.name, def, this.origin, entry, String(staleAfterS(this.appTtlS)));
      return decodeDef(d.app, d.name, cur);
    } catch {
      return null;
    }
  }

  disconnect(): void {
    this.conn.disconnect();
  }
}
