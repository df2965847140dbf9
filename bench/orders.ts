// `npm run bench -- orders`: orders end to end over HTTP (bank approves, a simulated owner and driver act), against a bare workflow of the same shape.
import { fileURLToPath } from 'node:url';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { checkInventoryInvariants } from '../src/db/invariants.js';
import { baselineOrder, paidSignal, placedUpdate, stepUpdate } from './workflows/baseline.js';
import { temporalDataConverter } from '../src/temporal.js';
import { numberFlag } from './support/args.js';
import { benchRequest, openBenchShop } from './support/shop.js';
import { percentile, pool, round, startBenchStack, type BenchStack } from './support/stack.js';

interface Options {
  orders: number;
  concurrency: number;
}

function parse(args: string[]): Options {
  return { orders: numberFlag(args, 'orders', 200), concurrency: numberFlag(args, 'concurrency', 20) };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function measureOrders(stack: BenchStack, opts: Options) {
  const { locationId, productId, owner, driver, slotId, customers } = await openBenchShop(stack, {
    name: 'Bench',
    units: opts.orders * 2,
    capacity: opts.orders,
    customers: opts.concurrency,
  });
  const statusOf = async (id: string, wanted: string) => {
    const row = await stack.db('orders').where({ id }).first<{ status: string } | undefined>('status');
    return row?.status === wanted ? true : undefined;
  };

  const confirmedMs: number[] = [];
  const completedMs: number[] = [];
  const orderIds: string[] = [];
  const started = performance.now();
  await pool(opts.orders, opts.concurrency, async (i) => {
    const customer = customers[i % customers.length]!;
    const t0 = performance.now();
    const placed = await benchRequest(stack, 'POST', '/v1/orders', customer.token, {
      locationId,
      slotId,
      items: [{ productId, quantity: 1 }],
      address: { lat: 51.5, lng: -0.1, line1: 'Bench Street' },
    });
    if (placed.status !== 201) throw new Error(`order refused: ${JSON.stringify(placed.body)}`);
    const id = placed.body.id as string;
    orderIds.push(id);
    await until(() => statusOf(id, 'confirmed'), 'confirmed');
    confirmedMs.push(performance.now() - t0);
    await benchRequest(stack, 'POST', `/v1/orders/${id}/prep`, owner.token, { status: 'prepping' });
    await benchRequest(stack, 'POST', `/v1/orders/${id}/prep`, owner.token, { status: 'prepped' });
    await until(
      async () => ((await stack.db('deliveries').where({ order_id: id }).first('order_id')) ? true : undefined),
      'delivery',
    );
    for (const [url, token, body] of [
      [`/v1/deliveries/${id}/assign`, owner.token, { driverId: driver.id }],
      [`/v1/deliveries/${id}/pickup`, driver.token, undefined],
      [`/v1/deliveries/${id}/complete`, driver.token, undefined],
    ] as const) {
      const res = await benchRequest(stack, 'POST', url, token, body);
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    await until(() => statusOf(id, 'completed'), 'completed');
    completedMs.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;

  // History events: the engine's cost of an order, measured on a sample.
  const sample = orderIds.slice(0, 10);
  let events = 0;
  for (const id of sample) {
    for (const workflowId of [`order-${id}`, `delivery-${id}`]) {
      // The read model shows completed before the workflows close; count their whole histories.
      const handle = stack.client.workflow.getHandle(workflowId);
      await handle.result();
      events += (await handle.fetchHistory()).events?.length ?? 0;
    }
  }
  return {
    seconds,
    confirmedMs: confirmedMs.sort((a, b) => a - b),
    completedMs: completedMs.sort((a, b) => a - b),
    eventsPerOrder: events / sample.length,
  };
}

async function measureBaseline(stack: BenchStack, opts: Options) {
  const taskQueue = 'bench-baseline';
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows/baseline.ts', import.meta.url)),
    logger: new DefaultLogger('ERROR'),
  });
  const worker = await Worker.create({
    connection: stack.workerConnection,
    taskQueue,
    workflowBundle: { code },
    dataConverter: temporalDataConverter(stack.config),
    activities: { async noop() {} },
  });
  const completedMs: number[] = [];
  const started = performance.now();
  await worker.runUntil(async () => {
    await pool(opts.orders, opts.concurrency, async (i) => {
      const t0 = performance.now();
      const workflowId = `baseline-${i}-${Date.now()}`;
      const op = new WithStartWorkflowOperation(baselineOrder, {
        workflowId,
        taskQueue,
        workflowIdConflictPolicy: 'FAIL',
      });
      await stack.client.workflow.executeUpdateWithStart(placedUpdate, { startWorkflowOperation: op });
      const order = stack.client.workflow.getHandle(workflowId);
      await order.signal(paidSignal);
      await order.executeUpdate(stepUpdate, { args: ['prepping'] });
      await order.executeUpdate(stepUpdate, { args: ['prepped'] });
      const delivery = stack.client.workflow.getHandle(`${workflowId}-delivery`);
      for (const step of ['assigned', 'picked_up', 'delivered']) {
        await until(async () => {
          try {
            return await delivery.executeUpdate(stepUpdate, { args: [step] });
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) return undefined;
            throw err;
          }
        }, `baseline ${step}`);
      }
      await order.result();
      completedMs.push(performance.now() - t0);
    });
  });
  return { seconds: (performance.now() - started) / 1000, completedMs: completedMs.sort((a, b) => a - b) };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  console.error(`orders: ${opts.orders} orders at concurrency ${opts.concurrency}; starting the stack…`);
  const stack = await startBenchStack();
  try {
    const baseline = await measureBaseline(stack, opts);
    console.error(`baseline: ${round(opts.orders / baseline.seconds)} workflows/s`);
    const ours = await measureOrders(stack, opts);
    const violations = await checkInventoryInvariants(stack.db);
    const result = {
      bench: 'orders',
      orders: opts.orders,
      concurrency: opts.concurrency,
      orders_per_s: round(opts.orders / ours.seconds),
      confirmed_p50_ms: round(percentile(ours.confirmedMs, 50)),
      confirmed_p99_ms: round(percentile(ours.confirmedMs, 99)),
      completed_p50_ms: round(percentile(ours.completedMs, 50)),
      completed_p99_ms: round(percentile(ours.completedMs, 99)),
      history_events_per_order: round(ours.eventsPerOrder),
      baseline_per_s: round(opts.orders / baseline.seconds),
      baseline_completed_p50_ms: round(percentile(baseline.completedMs, 50)),
      ratio: round(baseline.seconds / ours.seconds, 2),
      invariant_violations: violations.length,
    };
    console.log(
      `orders/s ${result.orders_per_s} vs baseline ${result.baseline_per_s} (ratio ${result.ratio}); POST→confirmed p50 ${result.confirmed_p50_ms} ms p99 ${result.confirmed_p99_ms} ms; POST→completed p50 ${result.completed_p50_ms} ms p99 ${result.completed_p99_ms} ms; ${result.history_events_per_order} history events per order`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
