// The alert options (docs/alerts.md), and the rules file read and validated at
// start. Kept apart from the running alerts (index.ts), which the configuration of
// every command must not load.

import { readFileSync } from 'node:fs';
import { ConfigError, type Option } from '../options.js';
import { parseRules, type RuleSet } from './rules.js';

export const ALERT_OPTIONS: Option[] = [
  { flag: 'alerts', env: 'DRAINMETER_ALERTS', describe: 'alert rules, a YAML file (docs/alerts.md)', default: '' },
  { flag: 'state-file', env: 'DRAINMETER_STATE_FILE', describe: 'alert state without Redis (on a dyno: until it restarts)', default: '.drainmeter-state.json' },
];

export interface AlertSettings {
  file: string;
  rules: RuleSet;
  stateFile: string;
}

/** Reads and validates a rules file: ConfigError (one line) when it is missing or wrong. */
export function readRules(file: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the alert rules: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseRules(text, file);
}

/** The alert settings the options ask for, or null without DRAINMETER_ALERTS. */
export function configureAlerts(values: ReadonlyMap<string, string>): AlertSettings | null {
  const file = values.get('alerts') ?? '';
  if (file === '') return null;
  return { file, rules: readRules(file), stateFile: values.get('state-file') || '.drainmeter-state.json' };
}

