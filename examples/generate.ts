// Writes examples/heroku.log: three minutes of a Heroku app as `heroku logs -t` prints
// it (router, app metrics, runtime metrics, Postgres and Redis, an H12 and an R14),
// from the corpus generator the tests and benchmarks use. Deterministic:
//   npm run examples
import { cliLines, generate, iso } from '../fixtures/corpus.js';
import { R14, ROUTER_H12 } from '../fixtures/heroku.js';

const start = Date.UTC(2026, 10, 21, 12, 0, 0);
const lines = cliLines(generate(3600, { seed: 21, start, rate: 20 }));
// Make sure the incidents are there, a minute in.
lines.splice(1200, 0, `${iso(start + 60_000)} heroku[router]: ${ROUTER_H12}`, `${iso(start + 60_500)} heroku[web.2]: ${R14}`);
process.stdout.write(lines.join('\n') + '\n');
