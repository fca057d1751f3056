// The release and deploy lines of each app, kept to be marked on its charts
// (docs/dashboard.md). An app's releases go with its last ring.

/** Releases kept an app (the newest), and apps with releases kept: at most ~5 MB of text. */
const RELEASES_KEPT = 20;
const RELEASE_APPS = 1000;

export class Releases {
  /** Each app's newest releases (t epoch s), oldest first. */
  private readonly byApp = new Map<string, { t: number; text: string }[]>();

  /** A release or deploy line of an app at `time` (epoch ms). */
  add(app: string, time: number, text: string): void {
    const t = Math.floor(time / 1000);
    let list = this.byApp.get(app);
    if (list === undefined) {
      if (this.byApp.size >= RELEASE_APPS) return;
      this.byApp.set(app, (list = []));
    }
    if (list.some((r) => r.t === t && r.text === text)) return;
    list.push({ t, text });
    list.sort((a, b) => a.t - b.t);
    if (list.length > RELEASES_KEPT) list.shift();
  }

  /** The releases of `apps` in [from, to) (epoch s), as JSON text. */
  json(apps: Iterable<string>, from: number, to: number): string {
    const out: { app: string; t: number; text: string }[] = [];
    for (const app of apps) for (const r of this.byApp.get(app) ?? []) if (r.t >= from && r.t < to) out.push({ app, t: r.t, text: r.text });
    return JSON.stringify(out.sort((a, b) => a.t - b.t));
  }

  /** Forgets the releases of apps `live` no longer holds. */
  sweep(live: { has(app: string): boolean }): void {
    for (const app of this.byApp.keys()) if (!live.has(app)) this.byApp.delete(app);
  }
}
