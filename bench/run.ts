// `npm run bench [-- SUITE…]`: runs the benchmark suites and prints markdown tables
// (kept in bench/README.md). BENCH_ROUNDS (default 7) short rounds, medians reported.

import { ingestBench } from './ingest.js';
import { machine } from './lib.js';

const suites: Record<string, (rounds: number) => Promise<string>> = {
  ingest: (rounds) => ingestBench(20_000, rounds, 600),
};

const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(suites);
console.log(`${machine()}; median of ${rounds} rounds\n`);
for (const name of names) {
  const suite = suites[name];
  if (suite === undefined) {
    console.error(`unknown suite ${name}; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  console.log(await suite(rounds));
  console.log();
}
