// Every outlet that closed windows can go to besides /metrics (docs/push.md). A new outlet
// is one file and one line here: its options join the configuration, and serve and
// tail start it when they configure it.

import type { Logger } from '../log.js';
import type { Configured, Outlet, OutletContext, OutletDefinition } from './outlet.js';
import { graphiteOutlet } from './graphite.js';
import { otlpOutlet } from './otlp.js';
import { remoteWriteOutlet } from './remote-write.js';
import { windowsOutlet } from './windows.js';

export { type Configured, type Outlet, type OutletContext, PushStats } from './outlet.js';

export const OUTLETS: readonly OutletDefinition<unknown>[] = [windowsOutlet, remoteWriteOutlet, otlpOutlet, graphiteOutlet];

/** Every outlet's options, each once (push outlets share some). */
export const OUTLET_OPTIONS = [...new Map(OUTLETS.flatMap((o) => o.options).map((o) => [o.flag, o])).values()];

/** The outlets these option values turn on, validated (ConfigError otherwise). */
export function configureOutlets(values: ReadonlyMap<string, string>): Configured[] {
  const out: Configured[] = [];
  for (const definition of OUTLETS) {
    const settings = definition.configure(values);
    if (settings !== null) out.push({ definition, settings });
  }
  return out;
}

/** Starts the configured outlets and gives them the aggregator's closed windows. */
export function startOutlets(configured: readonly Configured[], ctx: OutletContext): Outlet[] {
  const outlets = configured.map((c) => c.definition.start(c.settings, ctx));
  for (const o of outlets) if (o.window !== undefined) ctx.aggregator.onClose(o.window);
  return outlets;
}

/** Flushes every outlet, all at once, by the deadline, and says what each push outlet sent and dropped in all. */
export async function flushOutlets(outlets: readonly Outlet[], deadline: number, log: Logger): Promise<void> {
  await Promise.all(outlets.map((o) => o.flush(deadline)));
  for (const o of outlets) {
    if (o.push === undefined) continue;
    const fields = { outlet: o.name, sent: o.push.samples, dropped: o.push.dropped };
    if (o.push.dropped > 0) log.warn('pushed, with drops', fields);
    else log.info('pushed', fields);
  }
}
