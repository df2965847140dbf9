// `npm run bench -- <name> [--flags]` runs bench/<name>.ts's `run(args)`; with no name, every known benchmark in turn.
// Each benchmark's result is written to bench/results/<name>.json and printed as the last line of stdout, one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.js';

type Bench = { run(args: string[]): Promise<Record<string, unknown>> };

const BENCHES: Record<string, () => Promise<Bench>> = {
  availability: () => import('./availability.js'),
  contention: () => import('./contention.js'),
  collection: () => import('./collection.js'),
  contract: () => import('./contract.js'),
  login: () => import('./login.js'),
  orders: () => import('./orders.js'),
  slots: () => import('./slots.js'),
  sse: () => import('./sse.js'),
  tracing: () => import('./tracing.js'),
  webhooks: () => import('./webhooks.js'),
};

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const named = argv[0] !== undefined && !argv[0].startsWith('-');
  const names = named ? [argv[0]!] : Object.keys(BENCHES);
  const args = named ? argv.slice(1) : argv;
  const unknown = names.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    console.error(`Unknown benchmark "${unknown.join(', ')}". Known: ${Object.keys(BENCHES).join(', ')}.`);
    process.exit(2);
  }
  fs.mkdirSync(resultsDir, { recursive: true });
  const results: Record<string, Record<string, unknown>> = {};
  for (const name of names) {
    const bench = await BENCHES[name]!();
    const result = await bench.run(args);
    results[name] = result;
    // A bench may name its result for what it ran (orders-cluster for the orders bench on the cluster).
    const file = typeof result.bench === 'string' && /^[a-z][a-z0-9-]*$/.test(result.bench) ? result.bench : name;
    fs.writeFileSync(path.join(resultsDir, `${file}.json`), `${JSON.stringify(result, null, 2)}\n`);
    if (named) console.log(JSON.stringify(result));
  }
  if (!named) {
    // The full run: a dated record, a chart and the readable summary, then one JSON line of the headline figures.
    const report = writeReport(fileURLToPath(new URL('./', import.meta.url)), results);
    console.error(`wrote ${report.json}, ${report.chart} and ${report.markdown}`);
    console.log(
      JSON.stringify({
        bench: 'all',
        ...Object.fromEntries(
          Object.entries(results).map(([name, r]) => [name, r.p99_ms ?? r.ratio ?? r.pass ?? null]),
        ),
      }),
    );
  }
}

try {
  await main();
  // Pools and native handles of the finished stacks must not keep the process alive.
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
