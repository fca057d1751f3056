// Strict parsers as oracles for every exposition a test scrapes (docs/limits.md): promtool
// (Debian `prometheus`) for the text format, the Python prometheus_client
// OpenMetrics parser (Debian `python3-prometheus-client`, run as /usr/bin/python3)
// for OpenMetrics. A laptop without them skips; CI (CI=true) fails instead.

import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./strict.py', import.meta.url));

function works(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const strictAvailable = works('promtool', ['--version']) && works(PY, ['-c', 'import prometheus_client.openmetrics.parser']);
if (!strictAvailable && process.env.CI === 'true') {
  throw new Error('CI: promtool (Debian prometheus) and python3-prometheus-client must be installed (.ci/run installs them)');
}
if (!strictAvailable) console.warn('skipping strict-parser checks: install the Debian packages prometheus and python3-prometheus-client');

export interface PromtoolVerdict {
  /** What makes the exposition invalid (promtool exits 1), or ''. */
  error: string;
  /** Style problems promtool lints (exit 3): `NAME problem`, one a line. */
  lint: string[];
}

/** promtool check metrics on a text exposition. */
export function promtool(text: string): PromtoolVerdict {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', maxBuffer: 1 << 30 });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status === 0) return { error: out, lint: [] };
  if (r.status === 3) return { error: '', lint: out.split('\n').filter((l) => l !== '') };
  return { error: `exit ${r.status}: ${out}`, lint: [] };
}

const OURS = /^(drainmeter_|heroku_|process_|nodejs_)/;

/**
 * The problems strict parsers find in a scrape, '' when none: promtool may lint the
 * style of a name an app chose (a gauge `jobs_total`), never drainmeter's own or the
 * platform's families; every other finding, and any OpenMetrics error, is one.
 */
export function strictProblems(text: string, openMetricsText: string): string {
  const v = promtool(text);
  const ours = v.lint.filter((l) => OURS.test(l));
  const om = openMetrics(openMetricsText);
  return [v.error, ...ours, om ?? ''].filter((p) => p !== '').join('\n');
}

/** The OpenMetrics parser's error for each exposition, or null where it accepts it. */
export function openMetricsErrors(texts: string[]): (string | null)[] {
  if (texts.length === 0) return [];
  const r = spawnSync(PY, [SCRIPT], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`the OpenMetrics checker failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as (string | null)[];
}

export function openMetrics(text: string): string | null {
  return openMetricsErrors([text])[0];
}
