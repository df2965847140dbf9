// `npm run bench -- tracing [--concurrency 10] [--seconds 15] [--warmup 3] [--rounds 10] [--sampler-ratio 1]
// [--profile <dir>]`: what tracing costs, on the topology `npm start` runs and with the orders bench's customers
// (placed, paid, prepped, assigned, picked up and delivered, each followed on its live stream). Two stacks stand side by
// side for the whole run, one untraced (the SDK off) and one traced: there the API, the worker and the bank export
// every span they sample over OTLP (protobuf, batched, as in production) to a collector stand-in in this process that
// counts what it receives and answers at once. Load goes to one stack at a time, in short slices taking turns, so that
// the drift of a shared machine falls on both sides alike. The JSON line's ratio is traced throughput over untraced
// (the target is at least 0.9), with a 95 % interval from resampling the rounds, beside CPU per order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedLoop, ourOrder, summarize } from './orders.js';
import { numberFlag } from './support/args.js';
import { cpuSince, readCpu } from './support/cpu.js';
import { startProcessStack, type ProcessStack } from './support/process-stack.js';
import { openBenchShop, type BenchShop } from './support/shop.js';
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

interface Side {
  traced: boolean;
  stack: ProcessStack;
  shop: BenchShop;
}

/** A stack for one side: traced, every process exports over OTLP to the collector; untraced, the SDK is off. */
async function startSide(
  traced: boolean,
  collector: Collector,
  opts: { concurrency: number; samplerRatio: number; profileDir?: string },
): Promise<Side> {
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
    return { traced, stack, shop };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** One slice of load on one side, while the other side's stack stands idle. */
async function slice(
  side: Side,
  idle: Side,
  collector: Collector,
  opts: { concurrency: number; seconds: number; warmup: number },
) {
  collector.reset();
  const idleBefore = readCpu(idle.stack.roots);
  const t0 = performance.now();
  const run = await closedLoop(
    side.stack,
    { concurrency: opts.concurrency, warmupMs: opts.warmup * 1000, durationMs: opts.seconds * 1000 },
    ourOrder(side.stack, side.shop),
  );
  const summary = summarize(run, ROLES);
  const exported = { ...collector.received };
  const idleCpu = cpuSince(idleBefore, readCpu(idle.stack.roots));
  // What the stack standing idle spent meanwhile (its pollers and timers), in CPU ms per second.
  const idleMsPerS = (Object.values(idleCpu).reduce((a, b) => a + b, 0) * 1e6) / (performance.now() - t0);
  console.error(
    `tracing (${side.traced ? 'traced' : 'untraced'}): ${summary.orders_per_s} orders/s, CPU ms/order ${JSON.stringify(summary.cpu_ms_per_order)}${side.traced ? `; ${exported.requests} exports, ${round(exported.bytes / 1024)} KB` : ''}`,
  );
  return {
    traced: side.traced,
    ...summary,
    idle_stack_cpu_ms_per_s: round(idleMsPerS),
    exports: exported.requests,
    exported_bytes: exported.bytes,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = {
    concurrency: numberFlag(args, 'concurrency', 10),
    seconds: numberFlag(args, 'seconds', 15),
    warmup: numberFlag(args, 'warmup', 3, (n) => Number.isInteger(n) && n >= 0),
    samplerRatio: numberFlag(args, 'sampler-ratio', 1, (n) => n > 0 && n <= 1),
    profileDir: args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined,
  };
  const rounds = numberFlag(args, 'rounds', 10, (n) => Number.isInteger(n) && n >= 1);
  const collector = await startCollector();
  const sides: Side[] = [];
  const slices: Awaited<ReturnType<typeof slice>>[] = [];
  try {
    // Both stacks stay up for the whole run, one after the other started and warmed.
    for (const traced of [false, true]) sides.push(await startSide(traced, collector, opts));
    for (const [side, idle] of [sides, [...sides].reverse()])
      await slice(side!, idle!, collector, { ...opts, seconds: 10 });
    // Then short slices taking turns, untraced first in one round and traced first in the next (ABBA): a machine that
    // drifts during the run, or slows for a while, weighs on both sides alike.
    for (let i = 0; i < rounds; i++) {
      const [first, second] = i % 2 === 0 ? sides : [...sides].reverse();
      slices.push(await slice(first!, second!, collector, opts), await slice(second!, first!, collector, opts));
    }
  } finally {
    for (const side of sides) await side.stack.stop();
    await collector.close();
  }
  const side = (traced: boolean) => slices.filter((p) => p.traced === traced);
  const perSecond = (traced: boolean) =>
    side(traced).reduce((sum, p) => sum + p.completed, 0) / (side(traced).length * opts.seconds);
  const cpuPerOrder = (traced: boolean) => {
    const runs = side(traced).filter((p) => p.cpu_ms_per_order !== null);
    return (
      runs.reduce((sum, p) => sum + p.cpu_ms_per_order!.total * p.completed, 0) /
      runs.reduce((sum, p) => sum + p.completed, 0)
    );
  };
  // Each round's traced slice against its untraced one.
  const paired = Array.from({ length: rounds }, (_, i) => {
    const [off, on] = [side(false)[i]!, side(true)[i]!];
    return off.completed > 0 ? on.completed / off.completed : NaN;
  }).filter(Number.isFinite);
  const pooledOf = (picked: number[]) =>
    picked.reduce((sum, i) => sum + side(true)[i]!.completed, 0) /
    picked.reduce((sum, i) => sum + side(false)[i]!.completed, 0);
  // A 95 % interval for the pooled ratio, by resampling the rounds (a fixed seed: the same data give the same interval).
  let seed = 1;
  const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const resampled = Array.from({ length: 2000 }, () =>
    pooledOf(Array.from({ length: rounds }, () => Math.floor(next() * rounds))),
  ).sort((a, b) => a - b);
  const off = perSecond(false);
  const on = perSecond(true);
  const completedTraced = side(true).reduce((sum, p) => sum + p.completed, 0);
  const result = {
    // Its own result file for a sampled run: tracing-sampled-10.json for one order in ten.
    bench: opts.samplerRatio === 1 ? 'tracing' : `tracing-sampled-${round(opts.samplerRatio * 100, 2)}`,
    topology:
      'processes: api, worker, bank, load generator; embedded Postgres; Temporal dev server; OTLP/protobuf export',
    concurrency: opts.concurrency,
    seconds_per_slice: opts.seconds,
    warmup_seconds_per_slice: opts.warmup,
    rounds,
    sampler_ratio: opts.samplerRatio,
    untraced_orders_per_s: round(off, 2),
    traced_orders_per_s: round(on, 2),
    ratio: round(on / off, 3),
    cost_percent: round((1 - on / off) * 100, 1),
    ratio_95_interval: [round(resampled[49]!, 3), round(resampled[1949]!, 3)],
    paired_ratio_median: round(median(paired), 3),
    paired_ratios: paired.map((r) => round(r, 3)),
    untraced_cpu_ms_per_order: round(cpuPerOrder(false)),
    traced_cpu_ms_per_order: round(cpuPerOrder(true)),
    cpu_cost_percent: round((cpuPerOrder(true) / cpuPerOrder(false) - 1) * 100, 1),
    // Bytes leave each process only for what completed in the window and a little besides: an upper bound per order.
    exported_kb_per_order:
      completedTraced > 0
        ? round(side(true).reduce((sum, p) => sum + p.exported_bytes, 0) / 1024 / completedTraced, 2)
        : 0,
    slices,
  };
  console.log(
    `traced ${result.traced_orders_per_s} orders/s against untraced ${result.untraced_orders_per_s} (ratio ${result.ratio}, 95 % interval ${result.ratio_95_interval.join('–')}, cost ${result.cost_percent} %; median of ${rounds} paired rounds ${result.paired_ratio_median}); CPU per order ${result.traced_cpu_ms_per_order} ms against ${result.untraced_cpu_ms_per_order} (+${result.cpu_cost_percent} %)`,
  );
  return result;
}
