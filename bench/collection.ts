// `npm run bench -- collection [--orders 10] [--hold-minutes 1] [--window-minutes 2]`: how long after they fall due the
// counter's two timers fire on the real stack. Counter orders are prepped to ready_for_collection at a location with
// that board hold and collection window; one in four is collected at once. The others' numbers leave the board
// (`order.board`) and they end `uncollected`; each delay is measured from the ready event to that event, less the
// configured minutes. (A window no longer than the hold ends the order first, taking its number off the board with it.)
import { streams } from '../src/events/log.js';
import { middayTimezone } from '../test/support/stack.js';
import { numberFlag } from './support/args.js';
import { benchRequest, benchUser } from './support/shop.js';
import { percentile, round, startBenchStack, type BenchStack } from './support/stack.js';

interface Options {
  orders: number;
  holdMinutes: number;
  windowMinutes: number;
}

/** An API request that must succeed. */
async function api(stack: BenchStack, token: string, method: string, path: string, body?: unknown) {
  const res = await benchRequest(stack, method, path, token, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Record<string, unknown>;
}

/** When the first event of `type` about the order on `stream` matching `match` was committed, waiting up to `timeoutMs`. */
async function eventAt(
  stack: BenchStack,
  stream: string,
  orderId: string,
  type: string,
  match: (payload: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await stack
      .db('events')
      .where({ stream, type })
      .whereRaw("payload->>'orderId' = ?", [orderId])
      .orderBy('id')
      .select<{ payload: Record<string, unknown>; created_at: Date }[]>('payload', 'created_at');
    const hit = rows.find((r) => match(r.payload));
    if (hit) return new Date(hit.created_at).getTime();
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts: Options = {
    orders: numberFlag(args, 'orders', 10),
    holdMinutes: numberFlag(args, 'hold-minutes', 1),
    windowMinutes: numberFlag(args, 'window-minutes', 2),
  };
  if (opts.windowMinutes <= opts.holdMinutes) throw new Error('--window-minutes must be longer than --hold-minutes');
  console.error(
    `collection: ${opts.orders} counter orders, board hold ${opts.holdMinutes} min, collection window ${opts.windowMinutes} min…`,
  );
  const stack = await startBenchStack();
  try {
    const [location] = await stack
      .db('locations')
      .insert({
        name: 'Bench café',
        kind: 'bakery',
        lat: 51.5,
        lng: -0.1,
        delivery_radius_m: 5000,
        timezone: middayTimezone(),
        collection_window_minutes: opts.windowMinutes,
        board_hold_minutes: opts.holdMinutes,
      })
      .returning<{ id: string }[]>('id');
    const locationId = location!.id;
    const [product] = await stack
      .db('products')
      .insert({ name: 'Bench flat white', price_cents: 320, shelf_life_minutes: 600 })
      .returning<{ id: string }[]>('id');
    const owner = await benchUser(stack, 'owner', locationId);
    await api(stack, owner.token, 'POST', `/v1/locations/${locationId}/stock`, {
      productId: product!.id,
      quantity: opts.orders * 2,
    });

    const orders: { id: string; collected: boolean }[] = [];
    for (let i = 0; i < opts.orders; i++) {
      const order = await api(stack, owner.token, 'POST', `/v1/locations/${locationId}/counter-orders`, {
        items: [{ productId: product!.id, quantity: 1 }],
        label: `Bench ${i}`,
      });
      orders.push({ id: order.id as string, collected: i % 4 === 3 });
    }
    for (const order of orders) {
      for (const status of ['prepping', 'prepped'])
        await api(stack, owner.token, 'POST', `/v1/orders/${order.id}/prep`, { status });
    }
    const waitMs = opts.windowMinutes * 60_000 + 60_000;
    const readyAt = new Map<string, number>();
    for (const order of orders) {
      const at = await eventAt(
        stack,
        streams.order(order.id),
        order.id,
        'order.status',
        (p) => p.status === 'ready_for_collection',
        30_000,
      );
      if (at === undefined) throw new Error(`order ${order.id} never became ready_for_collection`);
      readyAt.set(order.id, at);
      if (order.collected) await api(stack, owner.token, 'POST', `/v1/orders/${order.id}/collect`);
    }

    const holds: number[] = [];
    const windows: number[] = [];
    let missing = 0;
    let wronglyUncollected = 0;
    await Promise.all(
      orders.map(async (order) => {
        const ready = readyAt.get(order.id)!;
        const off = await eventAt(
          stack,
          streams.location(locationId),
          order.id,
          'order.board',
          (p) => p.state === 'done',
          waitMs,
        );
        if (order.collected) {
          const ended = await eventAt(
            stack,
            streams.order(order.id),
            order.id,
            'order.status',
            (p) => p.status === 'uncollected',
            0,
          );
          if (ended !== undefined) wronglyUncollected++;
          return;
        }
        const ended = await eventAt(
          stack,
          streams.order(order.id),
          order.id,
          'order.status',
          (p) => p.status === 'uncollected',
          waitMs,
        );
        if (off === undefined || ended === undefined) {
          missing++;
          return;
        }
        holds.push(off - ready - opts.holdMinutes * 60_000);
        windows.push(ended - ready - opts.windowMinutes * 60_000);
      }),
    );
    holds.sort((a, b) => a - b);
    windows.sort((a, b) => a - b);
    const result = {
      bench: 'collection',
      orders: opts.orders,
      hold_minutes: opts.holdMinutes,
      window_minutes: opts.windowMinutes,
      board_hold_delay_p50_ms: round(percentile(holds, 50)),
      board_hold_delay_max_ms: round(holds.at(-1) ?? NaN),
      collection_window_delay_p50_ms: round(percentile(windows, 50)),
      collection_window_delay_max_ms: round(windows.at(-1) ?? NaN),
      timed_out: missing,
      collected_but_uncollected: wronglyUncollected,
    };
    console.log(
      `numbers left the board p50 ${result.board_hold_delay_p50_ms} ms after their ${opts.holdMinutes} min hold (max ${result.board_hold_delay_max_ms}), orders ended uncollected p50 ${result.collection_window_delay_p50_ms} ms after their ${opts.windowMinutes} min window (max ${result.collection_window_delay_max_ms}); ${missing} timed out, ${wronglyUncollected} collected orders ended uncollected`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
