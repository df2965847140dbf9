// Collection and counter orders on the real stack: HTTP, the dev server, Postgres and the bank's webhook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createRepositories } from '../../src/db/repositories/index.js';
import { orderNumber } from '../../src/domain/vocabulary.js';
import { historyRecorder } from '../support/histories.js';
import { openSse } from '../support/sse.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let histories: ReturnType<typeof historyRecorder>;
let locationId: string;
let product: string;
let owner: { id: string; token: string };
let driver: { id: string; token: string };
let customer: Awaited<ReturnType<typeof createCustomer>>;

beforeAll(async () => {
  stack = await startTestStack();
  histories = historyRecorder();
  locationId = await createLocation(stack.db);
  product = await createProduct(stack.db, { name: 'Counter bun', price_cents: 250 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  driver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
  customer = await createCustomer(stack);
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: product, quantity: 100 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  await histories?.writeAll();
  await stack?.stop();
});

async function orderUntil(id: string, status: string, token = owner.token) {
  const res = await eventually(
    () => stack.api('GET', `/v1/orders/${id}`, { token }),
    (r) => r.body.status === status,
  );
  expect(res.body.status).toBe(status);
  return res.body;
}

async function prep(id: string) {
  for (const status of ['prepping', 'prepped']) {
    const res = await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

const slotReserved = async (slotId: string): Promise<number> =>
  (await stack.db('slots').where({ id: slotId }).first('reserved')).reserved;

async function units(orderId: string): Promise<Record<string, number>> {
  const rows = await stack
    .db('stock_allocations')
    .where({ order_id: orderId })
    .groupBy('state')
    .select<{ state: string; sum: string }[]>('state', stack.db.raw('sum(quantity) as sum'));
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.sum)]));
}

const collect = (id: string, token = owner.token) => stack.api('POST', `/v1/orders/${id}/collect`, { token });

describe('the collection policy', () => {
  it('is public, changed by the owner, and bounded, naming the field', async () => {
    const url = `/v1/locations/${locationId}/collection`;
    const before = await stack.api('GET', url);
    expect(before.body).toEqual({ collectionWindowMinutes: 60, boardHoldMinutes: 30 });
    const changed = await stack.api('PATCH', url, { token: owner.token, body: { boardHoldMinutes: 20 } });
    expect(changed.body).toEqual({ collectionWindowMinutes: 60, boardHoldMinutes: 20 });
    expect((await stack.api('GET', url)).body.boardHoldMinutes).toBe(20);
    for (const [body, field] of [
      [{}, 'body'],
      [{ collectionWindowMinutes: 0 }, 'collectionWindowMinutes'],
      [{ boardHoldMinutes: 1441 }, 'boardHoldMinutes'],
      [{ collectionWindowMinutes: 30, colour: 'red' }, 'body'],
    ] as const) {
      const res = await stack.api('PATCH', url, { token: owner.token, body });
      expect([res.status, res.body.error], JSON.stringify(body)).toEqual([400, 'validation_failed']);
      expect(res.body.message).toContain(field);
    }
    expect((await stack.api('PATCH', url, { token: driver.token, body: { boardHoldMinutes: 5 } })).status).toBe(403);
    const restored = await stack.api('PATCH', url, { token: owner.token, body: { boardHoldMinutes: 30 } });
    expect(restored.body).toEqual({ collectionWindowMinutes: 60, boardHoldMinutes: 30 });
  });
});

describe('a collection order', () => {
  it('is paid, prepped, ready for collection, then collected: units sold, the slot freed', async () => {
    const slotId = await createSlot(stack.db, locationId);
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { locationId, slotId, fulfilment: 'collection', items: [{ productId: product, quantity: 2 }] },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body).toMatchObject({ fulfilment: 'collection', address: null, customerId: customer.id });
    const id = placed.body.id as string;
    histories.keep('collected', `order-${id}`);
    await orderUntil(id, 'confirmed');
    expect(await slotReserved(slotId)).toBe(1);

    // Not ready yet: collect is refused and nothing changes.
    const early = await collect(id);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: 'invalid_transition' });
    expect(early.body.message).toContain('confirmed');

    await prep(id);
    const ready = await orderUntil(id, 'ready_for_collection');
    expect(ready.timeline.map((e: { status: string }) => e.status)).toContain('prepped');
    expect(await stack.db('deliveries').where({ order_id: id }).first()).toBeUndefined();

    const done = await collect(id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('completed');
    expect(await units(id)).toEqual({ sold: 2 });
    expect(await slotReserved(slotId)).toBe(0);
    const again = await collect(id);
    expect(again.status).toBe(409);

    const seen = await stack.api('GET', `/v1/orders/${id}`, { token: customer.token });
    expect(seen.body.status).toBe('completed');
    const { searchAttributes } = await stack.client.workflow.getHandle(`order-${id}`).describe();
    expect(searchAttributes.OrderStatus).toEqual(['completed']);
    await checkInventoryInvariants(stack.db);
  });

  it('refuses collect while it is unpaid, changing nothing', async () => {
    const silent = await createCustomer(stack, { behavior: 'silent' });
    const slotId = await createSlot(stack.db, locationId);
    const placed = await stack.api('POST', '/v1/orders', {
      token: silent.token,
      body: { locationId, slotId, fulfilment: 'collection', items: [{ productId: product, quantity: 1 }] },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const id = placed.body.id as string;
    await orderUntil(id, 'awaiting_payment');
    const res = await collect(id);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: 'invalid_transition',
      message: 'Only an order ready for collection can be collected; this one is awaiting_payment',
    });
    expect(await units(id)).toEqual({ reserved: 1 });
    expect(await slotReserved(slotId)).toBe(1);
    expect((await stack.api('GET', `/v1/orders/${id}`, { token: owner.token })).body.status).toBe('awaiting_payment');
  });

  it('refuses an address on a collection order and a delivery order without one, naming the field', async () => {
    const slotId = await createSlot(stack.db, locationId);
    const items = [{ productId: product, quantity: 1 }];
    const withAddress = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { locationId, slotId, items, fulfilment: 'collection', address: { lat: 51.5, lng: -0.1, line1: 'x' } },
    });
    expect(withAddress.status).toBe(400);
    expect(withAddress.body).toMatchObject({ error: 'address_not_allowed' });
    expect(withAddress.body.message).toContain('address');
    const without = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { locationId, slotId, items },
    });
    expect(without.status).toBe(400);
    expect(without.body).toMatchObject({ error: 'address_required' });
    expect(await slotReserved(slotId)).toBe(0);
  });
});

describe('collect on a delivery order', () => {
  it('is refused with 409 whether unpaid or prepped, and changes nothing', async () => {
    const slotId = await createSlot(stack.db, locationId);
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId,
        slotId,
        items: [{ productId: product, quantity: 1 }],
        address: { lat: 51.5, lng: -0.1, line1: '3 Counter Road' },
      },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const id = placed.body.id as string;
    const unpaid = await collect(id);
    expect(unpaid.status).toBe(409);
    expect(unpaid.body).toMatchObject({
      error: 'invalid_transition',
      message: 'Only a collection order can be collected; this one is for delivery',
    });
    await orderUntil(id, 'confirmed');
    await prep(id);
    await orderUntil(id, 'prepped');
    const prepped = await collect(id);
    expect(prepped.status).toBe(409);
    expect(await units(id)).toEqual({ reserved: 1 });
    expect((await stack.api('GET', `/v1/orders/${id}`, { token: owner.token })).body.status).toBe('prepped');
  });
});

describe('a counter order', () => {
  it('is confirmed at once without the bank, goes through prep to collect, and takes no slot without one', async () => {
    const res = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: owner.token,
      body: { items: [{ productId: product, quantity: 3 }], label: 'Sam' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      status: 'confirmed',
      customerId: null,
      slotId: null,
      label: 'Sam',
      fulfilment: 'collection',
      address: null,
      totalCents: 750,
    });
    const id = res.body.id as string;
    histories.keep('counter', `order-${id}`);
    expect((await stack.db('orders').where({ id }).first('charge_id')).charge_id).toBeNull();
    await prep(id);
    await orderUntil(id, 'ready_for_collection');
    const done = await collect(id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe('completed');
    expect(await units(id)).toEqual({ sold: 3 });

    // Customers never see it; the owner's history lists it.
    expect((await stack.api('GET', `/v1/orders/${id}`, { token: customer.token })).status).toBe(404);
    const history = await stack.api('GET', '/v1/orders?limit=5', { token: owner.token });
    expect(history.body.items.find((o: { id: string }) => o.id === id)).toMatchObject({ customerId: null });
    await checkInventoryInvariants(stack.db);
  });

  it('takes its slot’s capacity when given one', async () => {
    const slotId = await createSlot(stack.db, locationId);
    const res = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: owner.token,
      body: { items: [{ productId: product, quantity: 1 }], slotId },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'confirmed', slotId, label: null });
    expect(await slotReserved(slotId)).toBe(1);
  });

  it('answers a retried request with the same Idempotency-Key with the order it placed, creating nothing more', async () => {
    const send = (quantity: number) =>
      stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
        token: owner.token,
        headers: { 'idempotency-key': `counter-${id}` },
        body: { items: [{ productId: product, quantity }], label: 'Retry' },
      });
    const id = crypto.randomUUID();
    const first = await send(1);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await send(1);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const [row] = await stack.db('orders').where({ label: 'Retry' }).count<{ count: number }[]>('* as count');
    expect(Number(row!.count)).toBe(1);
    const other = await send(2);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: 'idempotency_key_reused' });
  });

  it('is refused to a driver (403) and changes nothing', async () => {
    const before = await stack.db('orders').count<{ count: string }[]>('* as count');
    const res = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: driver.token,
      body: { items: [{ productId: product, quantity: 1 }] },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden' });
    const after = await stack.db('orders').count<{ count: string }[]>('* as count');
    expect(after[0]!.count).toBe(before[0]!.count);
  });
});

describe('the board', () => {
  it('shows a collection order preparing, then ready, and drops the number when its board hold passes', async () => {
    const res = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: owner.token,
      body: { items: [{ productId: product, quantity: 1 }] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    const number = orderNumber(id);
    const board = await openSse(`${stack.baseUrl}/v1/board/${locationId}/events`);
    await board.waitFor((e) => e.event === 'snapshot');
    await prep(id);
    const shown = await board.waitFor((e) => e.event === 'board' && e.data.number === number, 3);
    expect(shown.map((e) => e.data.state)).toEqual(['preparing', 'preparing', 'ready']);

    // The workflow's board-hold timer ends in this step (its timing is the time-skipping tests' to check).
    await createRepositories(stack.db).orders.leaveBoard(id);
    const [gone] = await board.waitFor((e) => e.event === 'board' && e.data.state === 'done');
    expect(gone!.data).toEqual({ number, state: 'done' });
    board.close();
    const again = await openSse(`${stack.baseUrl}/v1/board/${locationId}/events`);
    const [snapshot] = await again.waitFor((e) => e.event === 'snapshot');
    expect(snapshot!.data.orders.map((o: { number: string }) => o.number)).not.toContain(number);
    again.close();
    // Off the board, still waiting: it can be collected.
    await orderUntil(id, 'ready_for_collection');
    expect((await collect(id)).status).toBe(200);
  });
});
