// `npm run bench -- orders`: orders end to end over HTTP on the topology `npm start` runs (API, worker and bank in
// processes of their own; this process is only the load generator), swept over concurrency against a bare workflow
// of the same shape on the same Temporal server. Each virtual customer places an order, follows it on its live
// stream, and a simulated owner and driver move it along; then it orders again. `--target cluster` runs it on
// `npm run cluster`'s topology too (bench/support/cluster-target.ts), after the same sweep on the dev server in the
// same run, its result in results/orders-cluster.json with the dev server's beside it (`dev_server`).
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { checkInventoryInvariants } from '../src/db/invariants.js';
import { openSse } from '../test/support/sse.js';
import { BASELINE_TASK_QUEUE, baselineOrder, paidSignal, placedUpdate, stepUpdate } from './workflows/baseline.js';
import { sweepChart } from './report.js';
import { numberFlag } from './support/args.js';
import { cpuSince, ownCpuSeconds, readCpu } from './support/cpu.js';
import { startClusterTarget } from './support/cluster-target.js';
import { startProcessStack, type ProcessStack } from './support/process-stack.js';
import { benchRequest, openBenchShop, type BenchShop } from './support/shop.js';
import { percentile, round } from './support/stack.js';

interface Options {
  concurrency: number[];
  /** Measured seconds per point, after the warm-up. */
  seconds: number;
  warmup: number;
  /** Runs only one side of the comparison, for looking into it. */
  only: 'ours' | 'baseline' | undefined;
  /** `npm start`'s topology (the default), or `npm run cluster`'s. */
  target: 'processes' | 'cluster';
}

function parse(args: string[]): Options {
  const i = args.indexOf('--concurrency');
  const list = i >= 0 ? (args[i + 1] ?? '') : '10,20,40,80,160';
  const concurrency = list.split(',').map(Number);
  if (concurrency.length === 0 || concurrency.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--concurrency ${list} must be a comma-separated list of positive integers`);
  return {
    concurrency,
    seconds: numberFlag(args, 'seconds', 30),
    warmup: numberFlag(args, 'warmup', 5, (n) => Number.isInteger(n) && n >= 0),
    only: args.includes('--only') ? (args[args.indexOf('--only') + 1] as 'ours' | 'baseline') : undefined,
    target: targetFlag(args),
  };
}

function targetFlag(args: string[]): Options['target'] {
  const i = args.indexOf('--target');
  const target = i >= 0 ? args[i + 1] : 'processes';
  if (target !== 'processes' && target !== 'cluster')
    throw new Error(`--target ${target} must be processes or cluster`);
  return target;
}

/** One order's life as its customer saw it. */
export interface Sample {
  /** performance.now() when the accepted POST was sent, and when the order was completed. */
  startedAt: number;
  endedAt: number;
  confirmedMs: number;
  completedMs: number;
}

/** Every answer to POST /v1/orders: when it came, how long it took, and whether it was a refusal. */
export interface PostAnswer {
  at: number;
  ms: number;
  refused: boolean;
}

export interface PointRun {
  samples: Sample[];
  posts: PostAnswer[];
  /** CPU seconds of each role over the measured window. */
  cpu: Record<string, number>;
  windowSeconds: number;
}

const DRAIN_MS = 180_000;

/**
 * A closed loop: `concurrency` virtual customers each run `once` again and again until the window ends, then finish
 * what they started. Throughput counts orders completed inside the measured window; latencies are theirs.
 */
export async function closedLoop(
  stack: ProcessStack,
  opts: { concurrency: number; warmupMs: number; durationMs: number },
  once: (vu: number, posts: PostAnswer[]) => Promise<Sample>,
): Promise<PointRun> {
  const t0 = performance.now();
  const windowStart = t0 + opts.warmupMs;
  const windowEnd = windowStart + opts.durationMs;
  const samples: Sample[] = [];
  const posts: PostAnswer[] = [];
  let cpuStart: Record<string, number> | undefined;
  let cpuEnd: Record<string, number> | undefined;
  const roots = { ...stack.roots };
  const reading = () => ({ ...readCpu(roots), load: ownCpuSeconds() });
  const marks = (async () => {
    await sleep(opts.warmupMs);
    cpuStart = reading();
    await sleep(opts.durationMs);
    cpuEnd = reading();
  })();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, vu) => {
      // Customers start spread over a second, as a crowd does, rather than in one burst.
      await sleep((vu / opts.concurrency) * 1000);
      while (performance.now() < windowEnd) samples.push(await once(vu, posts));
    }),
  );
  await marks;
  const inWindow = (at: number) => at >= windowStart && at <= windowEnd;
  return {
    samples: samples.filter((s) => inWindow(s.endedAt)),
    posts: posts.filter((p) => inWindow(p.at)),
    cpu: cpuSince(cpuStart!, cpuEnd!),
    windowSeconds: opts.durationMs / 1000,
  };
}

/** Our order, over HTTP, followed on its live stream. */
export function ourOrder(stack: ProcessStack, shop: BenchShop) {
  return async (vu: number, posts: PostAnswer[]): Promise<Sample> => {
    const customer = shop.customers[vu % shop.customers.length]!;
    // Behind several API replicas, each customer keeps to one, as a load balancer's affinity would.
    const baseUrl = stack.baseUrls?.[vu % stack.baseUrls.length] ?? stack.baseUrl;
    const at = { ...stack, baseUrl };
    let placed: { status: number; body: any; headers?: Headers };
    let startedAt: number;
    for (;;) {
      startedAt = performance.now();
      const res = await fetch(`${baseUrl}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          locationId: shop.locationId,
          slotId: shop.slotId,
          items: [{ productId: shop.productId, quantity: 1 }],
          address: { lat: 51.5, lng: -0.1, line1: 'Bench Street' },
        }),
      });
      placed = { status: res.status, body: await res.json(), headers: res.headers };
      const now = performance.now();
      posts.push({ at: now, ms: now - startedAt, refused: res.status === 503 });
      if (res.status === 201) break;
      if (res.status !== 503) throw new Error(`order refused: ${res.status} ${JSON.stringify(placed.body)}`);
      // Refused as overloaded: come back when the API says to, as a well-behaved client does.
      await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000);
    }
    const id = placed.body.id as string;
    const stream = await openSse(`${baseUrl}/v1/orders/${id}/events`, {
      headers: { authorization: `Bearer ${customer.token}` },
    });
    const seen = (type: string, status?: string) =>
      stream.waitFor((e) => e.event === type && (status === undefined || e.data?.status === status), 1, DRAIN_MS);
    try {
      await seen('order.status', 'confirmed');
      const confirmedMs = performance.now() - startedAt;
      const act = async (url: string, token: string, body?: unknown) => {
        const res = await benchRequest(at, 'POST', url, token, body);
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
      };
      await act(`/v1/orders/${id}/prep`, shop.owner.token, { status: 'prepping' });
      await act(`/v1/orders/${id}/prep`, shop.owner.token, { status: 'prepped' });
      await stream.waitFor((e) => e.event === 'delivery.status', 1, DRAIN_MS);
      await act(`/v1/deliveries/${id}/assign`, shop.owner.token, { driverId: shop.driver.id });
      await act(`/v1/deliveries/${id}/pickup`, shop.driver.token);
      await act(`/v1/deliveries/${id}/complete`, shop.driver.token);
      await seen('order.status', 'completed');
      const endedAt = performance.now();
      return { startedAt, endedAt, confirmedMs, completedMs: endedAt - startedAt };
    } finally {
      stream.close();
    }
  };
}

/** The bare workflow of the same shape, driven through the Temporal client with no API, bank or database. */
function baselineOrderRun(stack: ProcessStack) {
  let n = 0;
  const runId = Date.now();
  return async (_vu: number, posts: PostAnswer[]): Promise<Sample> => {
    const workflowId = `baseline-${runId}-${n++}`;
    const startedAt = performance.now();
    await stack.client.workflow.executeUpdateWithStart(placedUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(baselineOrder, {
        workflowId,
        taskQueue: BASELINE_TASK_QUEUE,
        workflowIdConflictPolicy: 'FAIL',
      }),
    });
    posts.push({ at: performance.now(), ms: performance.now() - startedAt, refused: false });
    const order = stack.client.workflow.getHandle(workflowId);
    await order.signal(paidSignal);
    const confirmedMs = performance.now() - startedAt;
    await order.executeUpdate(stepUpdate, { args: ['prepping'] });
    await order.executeUpdate(stepUpdate, { args: ['prepped'] });
    const delivery = stack.client.workflow.getHandle(`${workflowId}-delivery`);
    for (const step of ['assigned', 'picked_up', 'delivered'])
      await delivery.executeUpdate(stepUpdate, { args: [step] });
    await order.result();
    const endedAt = performance.now();
    return { startedAt, endedAt, confirmedMs, completedMs: endedAt - startedAt };
  };
}

const ms = (values: number[], p: number) =>
  round(
    percentile(
      [...values].sort((a, b) => a - b),
      p,
    ),
  );

/** CPU milliseconds per completed order of each role, and their total (the load generator apart). */
function cpuPerOrder(cpu: Record<string, number>, completed: number, roles: string[]) {
  const per = Object.fromEntries(roles.map((role) => [role, round(((cpu[role] ?? 0) * 1000) / completed)]));
  return { ...per, total: round(roles.reduce((sum, role) => sum + (cpu[role] ?? 0), 0) * (1000 / completed)) };
}

/** `<name>_p50_ms` and `<name>_p99_ms` of `values`. */
function quantiles<N extends string>(name: N, values: number[]) {
  return { [`${name}_p50_ms`]: ms(values, 50), [`${name}_p99_ms`]: ms(values, 99) } as Record<
    `${N}_p50_ms` | `${N}_p99_ms`,
    number
  >;
}

export function summarize(run: PointRun, roles: string[]) {
  const completed = run.samples.length;
  return {
    orders_per_s: round(completed / run.windowSeconds, 2),
    completed,
    ...quantiles(
      'post',
      run.posts.map((p) => p.ms),
    ),
    ...quantiles(
      'confirmed',
      run.samples.map((s) => s.confirmedMs),
    ),
    ...quantiles(
      'completed',
      run.samples.map((s) => s.completedMs),
    ),
    refusals: run.posts.filter((p) => p.refused).length,
    cpu_ms_per_order: completed > 0 ? cpuPerOrder(run.cpu, completed, roles) : null,
    load_generator_cpu_ms_per_order: completed > 0 ? round((run.cpu.load! * 1000) / completed) : null,
  };
}

async function historyEventsPerOrder(stack: ProcessStack, orderIds: string[]): Promise<number> {
  let events = 0;
  for (const id of orderIds) {
    for (const workflowId of [`order-${id}`, `delivery-${id}`]) {
      const handle = stack.client.workflow.getHandle(workflowId);
      await handle.result();
      events += (await handle.fetchHistory()).events?.length ?? 0;
    }
  }
  return events / orderIds.length;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  if (opts.target !== 'cluster') return sweepOn('processes', opts, args);
  // The cluster beside the dev server, in one run: the same sweep on `npm start`'s topology first, then on the cluster.
  const devServer = await sweepOn('processes', opts, args, { chart: false });
  const onCluster = await sweepOn('cluster', opts, args);
  const pick = ({
    topology,
    orders_per_s,
    peak_concurrency,
    plateau,
    ratio,
    post_p99_ms,
    cpu_ms_per_order,
    sweep,
  }: Sweep) => ({ topology, orders_per_s, peak_concurrency, plateau, ratio, post_p99_ms, cpu_ms_per_order, sweep });
  return {
    ...onCluster,
    dev_server: pick(devServer),
    cluster_over_dev_server_peak: round(onCluster.orders_per_s / devServer.orders_per_s, 2),
  };
}

type Sweep = Awaited<ReturnType<typeof sweepOn>>;

async function sweepOn(target: Options['target'], opts: Options, args: string[], output = { chart: true }) {
  const log = (m: string) => console.error(`orders${target === 'cluster' ? ' (cluster)' : ''}: ${m}`);
  log(`concurrency ${opts.concurrency.join(', ')}, ${opts.warmup} s warm-up and ${opts.seconds} s measured per point`);
  // --profile <dir>: the API, worker and bank write V8 CPU profiles (one per thread) there when they stop.
  const profileDir = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;
  const cluster = target === 'cluster' ? await startClusterTarget({ log }) : undefined;
  const stack =
    cluster ??
    (await startProcessStack({
      log,
      nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    }));
  try {
    const baselineWorker = await stack.spawn('baseline-worker', 'bench/workflows/baseline-worker.ts');
    const maxConcurrency = Math.max(...opts.concurrency);
    const shop = await openBenchShop(stack, {
      name: 'Bench',
      units: 100_000,
      capacity: 100_000,
      customers: maxConcurrency,
    });
    const ourRoles = cluster?.ourRoles ?? ['api', 'worker', 'bank', 'postgres', 'temporal'];
    const temporalRoles = cluster?.temporalRoles ?? ['temporal'];
    // What each role costs doing nothing, so the per-order figures at low rates can be read against it.
    const idleBefore = readCpu(stack.roots);
    await sleep(10_000);
    const idle = cpuSince(idleBefore, readCpu(stack.roots));
    const idleMsPerSecond = Object.fromEntries(ourRoles.map((role) => [role, round((idle[role]! * 1000) / 10)]));
    log(`idle CPU ms per second: ${JSON.stringify(idleMsPerSecond)}`);
    const sweep = [];
    for (const concurrency of opts.concurrency) {
      const point = { concurrency, warmupMs: opts.warmup * 1000, durationMs: opts.seconds * 1000 };
      const skipped: PointRun = { samples: [], posts: [], cpu: {}, windowSeconds: opts.seconds };
      const bare =
        opts.only === 'ours'
          ? skipped
          : await closedLoop(
              { ...stack, roots: { ...stack.roots, worker: baselineWorker.process.pid! } },
              point,
              baselineOrderRun(stack),
            );
      const baseline = summarize(bare, ['worker', ...temporalRoles]);
      const ours = summarize(
        opts.only === 'baseline' ? skipped : await closedLoop(stack, point, ourOrder(stack, shop)),
        ourRoles,
      );
      const row = {
        concurrency,
        ...ours,
        baseline_per_s: baseline.orders_per_s,
        ratio: baseline.orders_per_s > 0 ? round(ours.orders_per_s / baseline.orders_per_s, 2) : null,
        baseline_post_p99_ms: baseline.post_p99_ms,
        baseline_completed_p50_ms: baseline.completed_p50_ms,
        baseline_cpu_ms_per_order: baseline.cpu_ms_per_order,
      };
      sweep.push(row);
      log(
        `c=${concurrency}: ${row.orders_per_s}/s vs bare ${row.baseline_per_s}/s (ratio ${row.ratio}); POST p99 ${row.post_p99_ms} ms, confirmed p50 ${row.confirmed_p50_ms} ms, completed p50 ${row.completed_p50_ms} p99 ${row.completed_p99_ms} ms; refusals ${row.refusals}; CPU ms/order ${JSON.stringify(row.cpu_ms_per_order)}`,
      );
    }
    const sample = await stack
      .db('orders')
      .where({ status: 'completed' })
      .orderBy('created_at', 'desc')
      .limit(10)
      .pluck('id');
    const eventsPerOrder = await historyEventsPerOrder(stack, sample);
    const violations = await checkInventoryInvariants(stack.db);
    const peak = sweep.reduce((best, row) => (row.orders_per_s > best.orders_per_s ? row : best), sweep[0]!);
    const afterPeak = sweep.slice(sweep.indexOf(peak));
    const knee = sweep.find((row) => row.orders_per_s >= 0.9 * peak.orders_per_s)!;
    const result = {
      bench: cluster ? 'orders-cluster' : 'orders',
      topology: cluster
        ? 'cluster: api ×2, worker ×2, bank, load generator; Postgres primary and streaming replica; Temporal server as frontend, history ×2, matching, worker'
        : 'processes: api, worker, bank, load generator; embedded Postgres; Temporal dev server',
      seconds_per_point: opts.seconds,
      orders_per_s: peak.orders_per_s,
      peak_concurrency: peak.concurrency,
      // The lowest completed rate at or past the peak, as a share of the peak: 1 is a flat plateau.
      plateau: round(Math.min(...afterPeak.map((row) => row.orders_per_s)) / peak.orders_per_s, 2),
      // The same past the peak, each point's rate taken as a share of the bare workflow's measured beside it: the
      // machine's own drift from point to point (a shared host slowing down) moves both alike and cancels out.
      plateau_against_bare:
        peak.ratio === null || afterPeak.some((row) => row.ratio === null)
          ? null
          : round(Math.min(...afterPeak.map((row) => row.ratio!)) / peak.ratio, 2),
      ratio: Math.min(...sweep.map((row) => row.ratio ?? 0)),
      post_p99_ms: Math.max(...sweep.map((row) => row.post_p99_ms)),
      refusals_below_peak: sweep.slice(0, sweep.indexOf(peak)).reduce((sum, row) => sum + row.refusals, 0),
      // The knee: the lowest concurrency already within 10 % of the peak, where the plateau starts. On a flat plateau
      // the peak itself can fall at any point of it by noise; below the knee the system still has room.
      knee_concurrency: knee.concurrency,
      refusals_below_knee: sweep.slice(0, sweep.indexOf(knee)).reduce((sum, row) => sum + row.refusals, 0),
      cpu_ms_per_order: sweep[0]!.cpu_ms_per_order,
      idle_cpu_ms_per_s: idleMsPerSecond,
      history_events_per_order: round(eventsPerOrder),
      invariant_violations: violations.length,
      sweep,
    };
    if (output.chart) {
      const chart = fileURLToPath(
        new URL(`./results/${cluster ? 'orders-cluster' : 'orders'}-sweep.svg`, import.meta.url),
      );
      fs.writeFileSync(chart, sweepChart(sweep));
      log(`wrote ${chart}`);
    }
    console.log(
      `peak ${result.orders_per_s} orders/s at concurrency ${result.peak_concurrency}; plateau ${result.plateau}; lowest ratio to bare ${result.ratio}; POST p99 at most ${result.post_p99_ms} ms; ${result.history_events_per_order} history events per order`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
