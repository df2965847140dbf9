// `npm run bench -- webhooks`: N orders driven end to end while M endpoints on loopback receive every order and
// delivery event, each delivery verified with the standardwebhooks library. Reports deliveries/s, the time from an
// event's commit to its receiver's 2xx, the Temporal cost per delivered event, the same with one receiver down for a
// while and back, and a bare signed POST loop to the same receivers as the baseline. `lost` and `out_of_order` must be 0.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Webhook } from 'standardwebhooks';
import { appendEvent } from '../src/db/repositories/events.js';
import { streams } from '../src/events/log.js';
import { DELIVERY_STATUSES, ORDER_STATUSES } from '../src/domain/vocabulary.js';
import { historyCost } from '../src/metrics/history-cost.js';
import { webhookWorkflowId } from '../workflows/messages.js';
import { numberFlag } from './support/args.js';
import { percentile, pool, round, startBenchStack, type BenchStack } from './support/stack.js';
import { benchRequest, openBenchShop } from './support/shop.js';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from './support/webhook-receiver.js';

interface Options {
  orders: number;
  endpoints: number;
  concurrency: number;
  /** How long the one receiver stays down in the second phase. */
  downMs: number;
}

function parse(args: string[]): Options {
  return {
    orders: numberFlag(args, 'orders', 20),
    endpoints: numberFlag(args, 'endpoints', 3),
    concurrency: numberFlag(args, 'concurrency', 5),
    downMs: numberFlag(args, 'down-s', 10) * 1000,
  };
}

/** Retries come quickly here, so the outage phase measures recovery, not the production schedule's first minute. */
const BENCH_RETRY_SCHEDULE_MS = '1000,2000,4000,8000';
/** What every endpoint subscribes to: the whole life of an order and of its delivery. */
const SUBSCRIBED = [...ORDER_STATUSES.map((s) => `order.${s}`), ...DELIVERY_STATUSES.map((s) => `delivery.${s}`)];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The shop, its endpoints and their receivers. */
async function setUp(stack: BenchStack, opts: Options) {
  const shop = await openBenchShop(stack, {
    name: 'Webhook',
    units: opts.orders * 4,
    capacity: opts.orders * 2,
    customers: opts.concurrency,
  });
  const { locationId, owner } = shop;
  const receivers: WebhookReceiver[] = [];
  const endpoints: { id: string; secret: string }[] = [];
  for (let i = 0; i < opts.endpoints; i++) {
    const receiver = await startWebhookReceiver();
    const created = await benchRequest(stack, 'POST', `/v1/locations/${locationId}/webhooks`, owner.token, {
      url: receiver.url,
      events: SUBSCRIBED,
      description: `Bench receiver ${i}`,
    });
    if (created.status !== 201) throw new Error(`could not add an endpoint: ${JSON.stringify(created.body)}`);
    receiver.setSecrets([created.body.secret]);
    receivers.push(receiver);
    endpoints.push({ id: created.body.id, secret: created.body.secret });
  }
  return { ...shop, receivers, endpoints };
}

type Shop = Awaited<ReturnType<typeof setUp>>;

/** Drives `count` orders from placing to delivered, as the orders bench does; returns their ids. */
async function driveOrders(stack: BenchStack, shop: Shop, count: number, concurrency: number): Promise<string[]> {
  const ids: string[] = [];
  const statusIs = async (id: string, wanted: string) =>
    (await stack.db('orders').where({ id }).first<{ status: string } | undefined>('status'))?.status === wanted;
  await pool(count, concurrency, async (i) => {
    const customer = shop.customers[i % shop.customers.length]!;
    const placed = await benchRequest(stack, 'POST', '/v1/orders', customer.token, {
      locationId: shop.locationId,
      slotId: shop.slotId,
      items: [{ productId: shop.productId, quantity: 1 }],
      address: { lat: 51.5, lng: -0.1, line1: 'Webhook Street' },
    });
    if (placed.status !== 201) throw new Error(`order refused: ${JSON.stringify(placed.body)}`);
    const id = placed.body.id as string;
    ids.push(id);
    await until(() => statusIs(id, 'confirmed'), 'confirmed');
    for (const status of ['prepping', 'prepped'])
      await benchRequest(stack, 'POST', `/v1/orders/${id}/prep`, shop.owner.token, { status });
    await until(
      async () => (await stack.db('deliveries').where({ order_id: id }).first('order_id')) !== undefined,
      'delivery',
    );
    for (const [url, token, body] of [
      [`/v1/deliveries/${id}/assign`, shop.owner.token, { driverId: shop.driver.id }],
      [`/v1/deliveries/${id}/pickup`, shop.driver.token, undefined],
      [`/v1/deliveries/${id}/complete`, shop.driver.token, undefined],
    ] as const) {
      const res = await benchRequest(stack, 'POST', url, token, body);
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    await until(() => statusIs(id, 'completed'), 'completed');
  });
  return ids;
}

/** The webhook types each order's log shows, in order: what every endpoint must receive for it. */
async function expectedOf(stack: BenchStack, orderIds: string[]): Promise<Map<string, string[]>> {
  const rows = await stack
    .db('events')
    .whereIn(
      'stream',
      orderIds.map((id) => `order:${id}`),
    )
    .whereIn('type', ['order.placed', 'order.status', 'delivery.status'])
    .orderBy('id')
    .select<{ stream: string; type: string; payload: Record<string, string> }[]>('stream', 'type', 'payload');
  const expected = new Map<string, string[]>(orderIds.map((id) => [id, []]));
  for (const row of rows) {
    const type =
      row.type === 'order.placed'
        ? 'order.placed'
        : row.type === 'order.status'
          ? `order.${row.payload.status}`
          : `delivery.${row.payload.deliveryStatus}`;
    expected.get(row.stream.slice('order:'.length))!.push(type);
  }
  return expected;
}

/** What the receivers got for these orders, checked against the log: lost, out of order, duplicates, latencies. */
async function judge(stack: BenchStack, shop: Shop, expected: Map<string, string[]>, since: number[]) {
  const total = [...expected.values()].reduce((n, types) => n + types.length, 0) * shop.receivers.length;
  const wait = async () => {
    let got = 0;
    for (const [i, receiver] of shop.receivers.entries()) {
      const ids = new Set(receiver.received.slice(since[i]).map((d) => d.webhookId));
      got += ids.size;
    }
    return got >= total;
  };
  await until(wait, 'every delivery', 180_000).catch(() => undefined);

  let lost = 0;
  let outOfOrder = 0;
  let duplicates = 0;
  const firsts: ReceivedDelivery[] = [];
  for (const [i, receiver] of shop.receivers.entries()) {
    const mine = receiver.received.slice(since[i]).filter((d) => expected.has(String(d.body.data.orderId)));
    const seen = new Set<string>();
    const byOrder = new Map<string, ReceivedDelivery[]>();
    for (const d of mine) {
      if (seen.has(d.webhookId)) {
        duplicates++;
        continue;
      }
      seen.add(d.webhookId);
      firsts.push(d);
      const list = byOrder.get(String(d.body.data.orderId)) ?? [];
      list.push(d);
      byOrder.set(String(d.body.data.orderId), list);
    }
    for (const [orderId, types] of expected) {
      const got = byOrder.get(orderId) ?? [];
      const remaining = [...got.map((d) => d.body.type)];
      for (const type of types) {
        const at = remaining.indexOf(type);
        if (at < 0) lost++;
        else remaining.splice(at, 1);
      }
      // In arrival order, the log's ids must only rise: an earlier event never arrives after a later one.
      const ids = got.map((d) => Number(d.webhookId.replace(/^msg_/, '')));
      for (let k = 1; k < ids.length; k++) if (ids[k]! < ids[k - 1]!) outOfOrder++;
    }
  }
  // From the event's commit (its row's time) to the receiver's 2xx.
  const eventIds = [...new Set(firsts.map((d) => Number(d.webhookId.replace(/^msg_/, ''))))];
  const committed = new Map<number, number>();
  for (let k = 0; k < eventIds.length; k += 1000) {
    const rows = await stack
      .db('events')
      .whereIn('id', eventIds.slice(k, k + 1000))
      .select<{ id: string; created_at: Date }[]>('id', 'created_at');
    for (const row of rows) committed.set(Number(row.id), row.created_at.getTime());
  }
  const latencies = firsts
    .map((d) => d.receivedAt - committed.get(Number(d.webhookId.replace(/^msg_/, '')))!)
    .sort((a, b) => a - b);
  const start = Math.min(...committed.values());
  const end = Math.max(...firsts.map((d) => d.receivedAt));
  return {
    expected: total,
    delivered: firsts.length,
    lost,
    outOfOrder,
    duplicates,
    latencies,
    seconds: (end - start) / 1000,
  };
}

/** History events and billable actions of every run of the endpoints' delivery workflows, so far. */
async function temporalCost(stack: BenchStack, endpointIds: string[]) {
  let events = 0;
  let actions = 0;
  let runs = 0;
  for (const endpointId of endpointIds) {
    for await (const execution of stack.client.workflow.list({
      query: `WorkflowId = '${webhookWorkflowId(endpointId)}'`,
    })) {
      const history = await stack.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const cost = historyCost(JSON.parse(historyToJSON(history)) as Parameters<typeof historyCost>[0]);
      events += cost.events;
      actions += cost.billableActions;
      runs++;
    }
  }
  return { events, actions, runs };
}

/** The statuses a delivered order's events announce, for the burst's synthetic orders. */
const BURST_PATH = ['awaiting_payment', 'confirmed', 'prepping', 'prepped', 'out_for_delivery', 'completed'];

/**
 * `count` synthetic orders' status events, each order's in sequence and the orders side by side, appended to the
 * location's stream as the order activities append them (so each commit queues its deliveries as a real one does).
 */
async function burstOfEvents(stack: BenchStack, shop: Shop, count: number, concurrency: number) {
  const expected = new Map<string, string[]>();
  await pool(count, concurrency, async () => {
    const orderId = randomUUID();
    expected.set(
      orderId,
      BURST_PATH.map((status) => `order.${status}`),
    );
    for (const status of BURST_PATH)
      await stack.db.transaction((trx) =>
        appendEvent(trx, streams.location(shop.locationId), 'order.status', { orderId, status, reason: null }),
      );
  });
  return expected;
}

/** The baseline: the same number of signed POSTs to the same receivers, in a plain loop at the same concurrency. */
async function bareLoop(shop: Shop, perEndpoint: number, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({ id: 'msg_0', type: 'order.confirmed', occurredAt: new Date().toISOString(), data: {} });
  const since = shop.receivers.map((r) => r.received.length);
  const started = performance.now();
  await pool(perEndpoint * shop.receivers.length, concurrency, async (i) => {
    const e = i % shop.receivers.length;
    const id = `msg_baseline_${i}`;
    const now = new Date();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(shop.receivers[e]!.url, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(shop.endpoints[e]!.secret).sign(id, now, body),
        },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`baseline got ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  // The baseline's messages are not the bench's events: drop them from the record.
  shop.receivers.forEach((r, i) => r.received.splice(since[i]!));
  return { deliveriesPerS: (perEndpoint * shop.receivers.length) / seconds };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  process.env.WEBHOOK_RETRY_SCHEDULE_MS ??= BENCH_RETRY_SCHEDULE_MS;
  console.error(
    `webhooks: ${opts.orders} orders × ${opts.endpoints} endpoints at concurrency ${opts.concurrency}; starting the stack…`,
  );
  const stack = await startBenchStack({ webhookWaker: true });
  try {
    const shop = await setUp(stack, opts);
    const endpointIds = shop.endpoints.map((e) => e.id);

    // Phase 1: every receiver up.
    let since = shop.receivers.map((r) => r.received.length);
    const steadyOrders = await driveOrders(stack, shop, opts.orders, opts.concurrency);
    const steady = await judge(stack, shop, await expectedOf(stack, steadyOrders), since);
    const steadyCost = await temporalCost(stack, endpointIds);
    console.error(`all up: ${steady.delivered}/${steady.expected} delivered in ${round(steady.seconds)} s`);

    // Phase 2, throughput: a burst of order events committed as fast as Postgres takes them, drained by the endpoints.
    since = shop.receivers.map((r) => r.received.length);
    const burst = await judge(stack, shop, await burstOfEvents(stack, shop, opts.orders * 5, opts.concurrency), since);
    const burstCost = await temporalCost(stack, endpointIds);
    console.error(`burst: ${burst.delivered}/${burst.expected} delivered in ${round(burst.seconds)} s`);

    // Phase 3: the first receiver is down while orders run, then comes back and must get everything.
    since = shop.receivers.map((r) => r.received.length);
    await shop.receivers[0]!.stop();
    const downAt = Date.now();
    const outageOrders = driveOrders(stack, shop, opts.orders, opts.concurrency);
    await sleep(opts.downMs);
    await shop.receivers[0]!.start();
    const recoveredAfterMs = Date.now() - downAt;
    const outage = await judge(stack, shop, await expectedOf(stack, await outageOrders), since);
    const outageCost = await temporalCost(stack, endpointIds);
    console.error(
      `one down ${Math.round(recoveredAfterMs / 1000)} s: ${outage.delivered}/${outage.expected} delivered`,
    );

    const baseline = await bareLoop(
      shop,
      Math.ceil(burst.delivered / opts.endpoints),
      opts.concurrency * opts.endpoints,
    );
    for (const receiver of shop.receivers) await receiver.stop();
    const refused = shop.receivers.reduce((n, r) => n + r.refused, 0);

    const perDelivered = (n: number, d: number) => round(n / Math.max(1, d), 2);
    const burstPerS = burst.delivered / burst.seconds;
    const result = {
      bench: 'webhooks',
      orders: opts.orders,
      endpoints: opts.endpoints,
      concurrency: opts.concurrency,
      retry_schedule_ms: process.env.WEBHOOK_RETRY_SCHEDULE_MS,
      expected: steady.expected + burst.expected + outage.expected,
      delivered: steady.delivered + burst.delivered + outage.delivered,
      lost: steady.lost + burst.lost + outage.lost,
      out_of_order: steady.outOfOrder + burst.outOfOrder + outage.outOfOrder,
      duplicates: steady.duplicates + burst.duplicates + outage.duplicates,
      signature_failures: refused,
      // Orders driven end to end: the latency a receiver sees while the shop works.
      p50_ms: round(percentile(steady.latencies, 50)),
      p99_ms: round(percentile(steady.latencies, 99)),
      orders_deliveries_per_s: round(steady.delivered / steady.seconds),
      history_events_per_delivery: perDelivered(steadyCost.events, steady.delivered),
      actions_per_delivery: perDelivered(steadyCost.actions, steady.delivered),
      workflow_runs: outageCost.runs,
      // A burst committed faster than it can be sent: what the delivery path sustains, against the bare loop.
      deliveries_per_s: round(burstPerS),
      burst: {
        events: burst.expected / opts.endpoints,
        p50_ms: round(percentile(burst.latencies, 50)),
        p99_ms: round(percentile(burst.latencies, 99)),
        history_events_per_delivery: perDelivered(burstCost.events - steadyCost.events, burst.delivered),
        actions_per_delivery: perDelivered(burstCost.actions - steadyCost.actions, burst.delivered),
      },
      down: {
        down_s: round(recoveredAfterMs / 1000),
        deliveries_per_s: round(outage.delivered / outage.seconds),
        p50_ms: round(percentile(outage.latencies, 50)),
        p99_ms: round(percentile(outage.latencies, 99)),
        history_events_per_delivery: perDelivered(outageCost.events - burstCost.events, outage.delivered),
        actions_per_delivery: perDelivered(outageCost.actions - burstCost.actions, outage.delivered),
      },
      baseline_per_s: round(baseline.deliveriesPerS),
      ratio: round(burstPerS / baseline.deliveriesPerS, 3),
    };
    console.log(
      `${result.delivered}/${result.expected} delivered (lost ${result.lost}, out of order ${result.out_of_order}, duplicates ${result.duplicates}); ` +
        `${result.deliveries_per_s}/s vs a bare POST loop's ${result.baseline_per_s}/s; commit→2xx p50 ${result.p50_ms} ms p99 ${result.p99_ms} ms; ` +
        `${result.history_events_per_delivery} history events and ${result.actions_per_delivery} actions per delivery; ` +
        `one receiver down ${result.down.down_s} s: p99 ${result.down.p99_ms} ms, ${result.down.history_events_per_delivery} events and ${result.down.actions_per_delivery} actions per delivery`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
