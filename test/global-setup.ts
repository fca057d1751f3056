// Builds dist/ once before any test file runs: the CLI tests run the built command,
// and a stale dist/ would test yesterday's code (vitest alone does not build).

import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
