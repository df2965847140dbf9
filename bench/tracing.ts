// What tracing costs: the same orders, placed and paid end to end (the API, the workflow, the bank and its webhook back),
// on a stack without tracing and on one traced throughout into a batched in-memory sink, alternately in one run.
// The JSON line's ratio is traced throughput over untraced (the target is at least 0.9).
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { numberFlag } from './support/args.js';
import { benchRequest, openBenchShop } from './support/shop.js';
import { pool, round, startBenchStack } from './support/stack.js';

/** Keeps only a count: the sink costs nothing, so the figure is the cost of making the spans. */
class CountingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

interface Phase {
  tracing: boolean;
  orders: number;
  seconds: number;
  ordersPerSecond: number;
  spans: number;
}

async function phase(tracing: boolean, orders: number, concurrency: number): Promise<Phase> {
  const exporter = tracing ? new CountingExporter() : undefined;
  const stack = await startBenchStack({ tracing: exporter });
  let seconds: number;
  try {
    const shop = await openBenchShop(stack, {
      name: tracing ? 'Traced' : 'Untraced',
      units: orders * 2,
      capacity: orders + concurrency,
      customers: concurrency,
    });
    const place = (i: number) =>
      benchRequest(stack, 'POST', '/v1/orders', shop.customers[i % concurrency]!.token, {
        locationId: shop.locationId,
        slotId: shop.slotId,
        items: [{ productId: shop.productId, quantity: 1 }],
        address: { lat: 51.5, lng: -0.1, line1: '1 Bench Road' },
      });
    // A few orders first, so both stacks have bundled, connected and warmed up before the clock starts.
    await pool(concurrency, concurrency, async (i) => void (await place(i)));
    const confirmedBefore = await confirmed(stack.db, shop.locationId);

    const started = performance.now();
    await pool(orders, concurrency, async (i) => {
      const res = await place(i);
      if (res.status !== 201) throw new Error(`order refused: ${res.status} ${JSON.stringify(res.body)}`);
    });
    // Paid: the bank decided and its webhook reached the workflow, which recorded the order confirmed.
    const deadline = Date.now() + 120_000;
    while ((await confirmed(stack.db, shop.locationId)) < confirmedBefore + orders) {
      if (Date.now() > deadline) throw new Error('orders were not all confirmed within 2 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    seconds = (performance.now() - started) / 1000;
  } finally {
    // Stopping flushes the batched spans into the count.
    await stack.stop();
  }
  return {
    tracing,
    orders,
    seconds: round(seconds, 2),
    ordersPerSecond: round(orders / seconds, 2),
    spans: exporter?.spans ?? 0,
  };
}

async function confirmed(db: Parameters<typeof openBenchShop>[0]['db'], locationId: string): Promise<number> {
  const row = await db('orders')
    .where({ location_id: locationId, status: 'confirmed' })
    .count<{ count: string }[]>('* as count')
    .first();
  return Number(row?.count ?? 0);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const orders = numberFlag(args, 'orders', 200);
  const concurrency = numberFlag(args, 'concurrency', 10);
  const rounds = numberFlag(args, 'rounds', 2);
  const phases: Phase[] = [];
  // Off, on, off, on…: a machine that drifts during the run weighs on both sides alike.
  for (let i = 0; i < rounds; i++) {
    for (const tracing of [false, true]) {
      const result = await phase(tracing, orders, concurrency);
      phases.push(result);
      console.error(
        `${tracing ? 'traced  ' : 'untraced'} ${result.orders} orders in ${result.seconds} s: ${result.ordersPerSecond}/s${tracing ? `, ${result.spans} spans` : ''}`,
      );
    }
  }
  const throughput = (tracing: boolean) => {
    const runs = phases.filter((p) => p.tracing === tracing);
    return runs.reduce((sum, p) => sum + p.orders, 0) / runs.reduce((sum, p) => sum + p.seconds, 0);
  };
  const off = throughput(false);
  const on = throughput(true);
  const traced = phases.filter((p) => p.tracing);
  return {
    bench: 'tracing',
    orders,
    concurrency,
    rounds,
    untraced_orders_per_s: round(off, 2),
    traced_orders_per_s: round(on, 2),
    ratio: round(on / off, 3),
    cost_percent: round((1 - on / off) * 100, 1),
    spans_per_order: round(
      traced.reduce((sum, p) => sum + p.spans, 0) / traced.reduce((sum, p) => sum + p.orders + concurrency, 0),
      1,
    ),
    phases,
  };
}
