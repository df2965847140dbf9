// `npm run bench -- tracing [--concurrency 10] [--seconds 30] [--warmup 5] [--rounds 2] [--sampler-ratio 1]
// [--only traced|untraced] [--profile <dir>]`: what tracing costs, on the topology `npm start` runs and with the
// orders bench's customers (placed, paid, prepped, assigned, picked up and delivered, each followed on its live
// stream). Phases alternate untraced and traced, each on a fresh stack: traced, the API, the worker and the bank export
// every span over OTLP (protobuf, batched, as in production) to a collector stand-in in this process that counts what
// it receives and answers at once. The JSON line's ratio is traced throughput over untraced (the target is at least
// 0.9), beside CPU per order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedLoop, ourOrder, summarize } from './orders.js';
import { numberFlag } from './support/args.js';
import { startProcessStack } from './support/process-stack.js';
import { openBenchShop } from './support/shop.js';
import { round } from './support/stack.js';

const ROLES = ['api', 'worker', 'bank', 'postgres', 'temporal'];

/** An OTLP/HTTP endpoint that takes every export and keeps only counts. */
async function startCollector() {
  const received = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        received.requests++;
        received.bytes += bytes;
      }
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    reset: () => Object.assign(received, { requests: 0, bytes: 0 }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Collector = Awaited<ReturnType<typeof startCollector>>;

async function phase(
  traced: boolean,
  collector: Collector,
  opts: { concurrency: number; seconds: number; warmup: number; samplerRatio: number; profileDir?: string },
) {
  const log = (m: string) => console.error(`tracing (${traced ? 'traced' : 'untraced'}): ${m}`);
  const env: NodeJS.ProcessEnv = traced
    ? {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        // Each process exports what it samples; the ones after it follow the caller's decision (parent-based).
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: String(opts.samplerRatio),
      }
    : { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: '' };
  const stack = await startProcessStack({
    log,
    env,
    // --profile <dir>: the API, worker and bank write V8 CPU profiles there when they stop.
    nodeArgs: opts.profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}/${traced ? 'traced' : 'untraced'}`]
      : [],
  });
  try {
    const shop = await openBenchShop(stack, {
      name: traced ? 'Traced' : 'Untraced',
      units: 100_000,
      capacity: 100_000,
      customers: opts.concurrency,
    });
    collector.reset();
    const run = await closedLoop(
      stack,
      { concurrency: opts.concurrency, warmupMs: opts.warmup * 1000, durationMs: opts.seconds * 1000 },
      ourOrder(stack, shop),
    );
    const summary = summarize(run, ROLES);
    const exported = { ...collector.received };
    log(
      `${summary.orders_per_s} orders/s, CPU ms/order ${JSON.stringify(summary.cpu_ms_per_order)}${traced ? `; ${exported.requests} exports, ${round(exported.bytes / 1024)} KB` : ''}`,
    );
    return { traced, ...summary, exports: exported.requests, exported_bytes: exported.bytes };
  } finally {
    await stack.stop();
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = {
    concurrency: numberFlag(args, 'concurrency', 10),
    seconds: numberFlag(args, 'seconds', 30),
    warmup: numberFlag(args, 'warmup', 5, (n) => Number.isInteger(n) && n >= 0),
    samplerRatio: numberFlag(args, 'sampler-ratio', 1, (n) => n > 0 && n <= 1),
    profileDir: args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined,
  };
  // --only traced|untraced: one side, for looking into it.
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const rounds = numberFlag(args, 'rounds', 2);
  const collector = await startCollector();
  const phases: Awaited<ReturnType<typeof phase>>[] = [];
  try {
    // Off, on, off, on…: a machine that drifts during the run weighs on both sides alike.
    for (let i = 0; i < rounds; i++) {
      for (const traced of [false, true]) {
        if (only === undefined || only === (traced ? 'traced' : 'untraced'))
          phases.push(await phase(traced, collector, opts));
      }
    }
  } finally {
    await collector.close();
  }
  const side = (traced: boolean) => phases.filter((p) => p.traced === traced);
  const perSecond = (traced: boolean) =>
    side(traced).reduce((sum, p) => sum + p.completed, 0) / (side(traced).length * opts.seconds);
  const cpuPerOrder = (traced: boolean) => {
    const runs = side(traced).filter((p) => p.cpu_ms_per_order !== null);
    return (
      runs.reduce((sum, p) => sum + p.cpu_ms_per_order!.total * p.completed, 0) /
      runs.reduce((sum, p) => sum + p.completed, 0)
    );
  };
  const off = perSecond(false);
  const on = perSecond(true);
  const completedTraced = side(true).reduce((sum, p) => sum + p.completed, 0);
  const result = {
    bench: 'tracing',
    topology:
      'processes: api, worker, bank, load generator; embedded Postgres; Temporal dev server; OTLP/protobuf export',
    concurrency: opts.concurrency,
    seconds_per_phase: opts.seconds,
    rounds,
    sampler_ratio: opts.samplerRatio,
    untraced_orders_per_s: round(off, 2),
    traced_orders_per_s: round(on, 2),
    ratio: round(on / off, 3),
    cost_percent: round((1 - on / off) * 100, 1),
    untraced_cpu_ms_per_order: round(cpuPerOrder(false)),
    traced_cpu_ms_per_order: round(cpuPerOrder(true)),
    cpu_cost_percent: round((cpuPerOrder(true) / cpuPerOrder(false) - 1) * 100, 1),
    // Bytes leave each process only for what completed in the window and a little besides: an upper bound per order.
    exported_kb_per_order:
      completedTraced > 0
        ? round(side(true).reduce((sum, p) => sum + p.exported_bytes, 0) / 1024 / completedTraced, 2)
        : 0,
    phases,
  };
  console.log(
    `traced ${result.traced_orders_per_s} orders/s against untraced ${result.untraced_orders_per_s} (ratio ${result.ratio}, cost ${result.cost_percent} %); CPU per order ${result.traced_cpu_ms_per_order} ms against ${result.untraced_cpu_ms_per_order} (+${result.cpu_cost_percent} %)`,
  );
  return result;
}
