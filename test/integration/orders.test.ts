// The first order slice end to end: HTTP → update-with-start → workflow → read model, on the real dev server and Postgres.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haversineMeters } from '../../src/domain/geo.js';
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
let locationId: string;
let slotId: string;
let productA: string;
let productB: string;
let customer: { id: string; token: string };
let otherCustomer: { id: string; token: string };
let owner: { id: string; token: string };
let otherOwner: { id: string; token: string };
let operator: { id: string; token: string };

/** Where this file's location stands and how far it delivers. */
const HERE = { lat: 51.5, lng: -0.1 };
const RADIUS_M = 5000;

/** The point `metres` north of `from`. */
function north(from: { lat: number; lng: number }, metres: number) {
  return { lat: from.lat + metres / 111_195, lng: from.lng };
}

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { ...HERE, delivery_radius_m: RADIUS_M });
  productA = await createProduct(stack.db, { name: 'Croissant', price_cents: 325 });
  productB = await createProduct(stack.db, { name: 'Rye', price_cents: 575 });
  slotId = await createSlot(stack.db, locationId, { capacity: 100 });
  customer = await createCustomer(stack, { behavior: 'silent' });
  otherCustomer = await createCustomer(stack);
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  for (const productId of [productA, productB]) {
    const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 100 },
    });
    expect(stocked.status).toBe(201);
  }
  otherOwner = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
  operator = await createUser(stack.db, 'operator');
});

afterAll(async () => {
  await stack?.stop();
});

function orderBody(
  items = [
    { productId: productA, quantity: 2 },
    { productId: productB, quantity: 1 },
  ],
) {
  return { locationId, slotId, items, address: { lat: 51.51, lng: -0.1, line1: '1 Test Street' } };
}

describe('health', () => {
  it('is alive and ready when Postgres and Temporal are up', async () => {
    expect((await stack.api('GET', '/healthz')).status).toBe(200);
    const ready = await stack.api('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: { ok: true }, temporal: { ok: true } });
  });
});

describe('POST /v1/orders', () => {
  it('starts the order workflow and answers once the order awaits payment', async () => {
    const res = await stack.api('POST', '/v1/orders', { token: customer.token, body: orderBody() });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('awaiting_payment');
    expect(res.body.totalCents).toBe(2 * 325 + 575);
    expect(res.body.customerId).toBe(customer.id);
    expect(res.body.timeline.map((e: { status: string }) => e.status)).toEqual(['placed', 'awaiting_payment']);

    const description = await stack.client.workflow.getHandle(`order-${res.body.id}`).describe();
    expect(description.status.name).toBe('RUNNING');
    const listed = await eventually(
      async () => {
        const found: string[] = [];
        for await (const wf of stack.client.workflow.list({
          query: `OrderStatus = "awaiting_payment" AND CustomerId = "${customer.id}"`,
        }))
          found.push(wf.workflowId);
        return found;
      },
      (found) => found.includes(`order-${res.body.id}`),
    );
    expect(listed).toContain(`order-${res.body.id}`);
  });

  it('moves to confirmed when the bank approves', async () => {
    const placed = await stack.api('POST', '/v1/orders', { token: otherCustomer.token, body: orderBody() });
    const order = await eventually(
      () => stack.api('GET', `/v1/orders/${placed.body.id}`, { token: otherCustomer.token }),
      (r) => r.body.status === 'confirmed',
    );
    expect(order.body.status).toBe('confirmed');
    expect(order.body.timeline.at(-1).status).toBe('confirmed');
  });

  it('maps an Idempotency-Key to one order, and refuses the key for another body', async () => {
    const key = randomUUID();
    const first = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: orderBody(),
      headers: { 'idempotency-key': key },
    });
    const again = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: orderBody(),
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    const other = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: orderBody([{ productId: productA, quantity: 5 }]),
      headers: { 'idempotency-key': key },
    });
    expect(other.status).toBe(422);
    expect(other.body.error).toBe('idempotency_key_reused');
    expect(
      await stack
        .db('orders')
        .where({ customer_id: customer.id, id: first.body.id })
        .count<{ count: number }[]>('* as count'),
    ).toEqual([{ count: 1 }]);
  });

  it('refuses bad input with a 4xx naming the problem, and writes nothing', async () => {
    // Other test files share the database: count only this file's location.
    const ordersHere = () =>
      stack.db('orders').where({ location_id: locationId }).count<{ count: number }[]>('* as count');
    const before = await ordersHere();
    const paris = { lat: 48.8566, lng: 2.3522, line1: '1 Rue de Rivoli' };
    const justOutside = { ...north(HERE, RADIUS_M + 1), line1: '2 Edge Road' };
    const cases: [unknown, number, string][] = [
      [{ ...orderBody(), items: [{ productId: productA, quantity: 0 }] }, 400, 'validation_failed'],
      [{ ...orderBody(), items: [{ productId: productA, quantity: 1.5 }] }, 400, 'validation_failed'],
      [{ ...orderBody(), items: [] }, 400, 'validation_failed'],
      [{ ...orderBody(), address: { lat: 91, lng: 0, line1: 'x' } }, 400, 'validation_failed'],
      [{ ...orderBody(), locationId: 'not-a-uuid' }, 400, 'validation_failed'],
      [
        orderBody([
          { productId: productA, quantity: 1 },
          { productId: productA, quantity: 2 },
        ]),
        400,
        'duplicate_lines',
      ],
      [orderBody([{ productId: randomUUID(), quantity: 1 }]), 422, 'unknown_product'],
      [{ ...orderBody(), locationId: randomUUID() }, 422, 'unknown_location'],
      [{ ...orderBody(), slotId: randomUUID() }, 422, 'unknown_slot'],
      [{ ...orderBody(), address: paris }, 422, 'outside_delivery_area'],
      [{ ...orderBody(), address: justOutside }, 422, 'outside_delivery_area'],
      [{ ...orderBody(), slotId: undefined }, 400, 'validation_failed'],
      ['{"locationId":', 400, 'invalid_json'],
    ];
    for (const [body, status, error] of cases) {
      const res = await stack.api('POST', '/v1/orders', { token: customer.token, body });
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status, error });
      expect(typeof res.body.message).toBe('string');
    }
    const quantity = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { ...orderBody(), items: [{ productId: productA, quantity: -3 }] },
    });
    expect(quantity.body.details[0].field).toContain('quantity');

    // The refusal says how far the address is and how far the location delivers; it leaves the Idempotency-Key unclaimed.
    const key = randomUUID();
    const far = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { ...orderBody(), address: paris },
      headers: { 'idempotency-key': key },
    });
    const distanceM = Math.ceil(haversineMeters(HERE, paris));
    expect(distanceM).toBeGreaterThan(300_000);
    expect(far.status).toBe(422);
    expect(far.body).toEqual({
      error: 'outside_delivery_area',
      message: `The address is ${distanceM.toLocaleString('en')} m from location ${locationId}, which delivers only within 5,000 m`,
      details: { distanceM, deliveryRadiusM: RADIUS_M },
    });
    expect(
      await stack
        .db('idempotency_keys')
        .where({ customer_id: customer.id, key })
        .count<{ count: number }[]>('* as count'),
    ).toEqual([{ count: 0 }]);
    expect(await ordersHere()).toEqual(before);
  });

  it('takes an address right at the edge of the delivery area, which the nearby list also offers the location to', async () => {
    const edge = { ...north(HERE, RADIUS_M - 1), line1: '3 Edge Road' };
    const outside = north(HERE, RADIUS_M + 1);
    expect(haversineMeters(HERE, edge)).toBeGreaterThan(RADIUS_M - 2);
    expect(haversineMeters(HERE, edge)).toBeLessThanOrEqual(RADIUS_M);
    // What the availability SQL offers at a point and what placement accepts there agree, on both sides of the edge.
    const nearby = async (point: { lat: number; lng: number }) =>
      (await stack.api('GET', `/v1/locations?lat=${point.lat}&lng=${point.lng}`)).body.items.map(
        (l: { id: string }) => l.id,
      );
    expect(await nearby(edge)).toContain(locationId);
    expect(await nearby(outside)).not.toContain(locationId);

    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { ...orderBody([{ productId: productA, quantity: 1 }]), address: edge },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body.address).toEqual(edge);
  });

  it('needs a customer token', async () => {
    expect((await stack.api('POST', '/v1/orders', { body: orderBody() })).status).toBe(401);
    expect((await stack.api('POST', '/v1/orders', { token: 'nope', body: orderBody() })).status).toBe(401);
    expect((await stack.api('POST', '/v1/orders', { token: owner.token, body: orderBody() })).status).toBe(403);
  });
});

describe('GET /v1/orders/:id', () => {
  it('shows the order to its customer, its location owner and operators, and to no one else', async () => {
    const placed = await stack.api('POST', '/v1/orders', { token: customer.token, body: orderBody() });
    const id = placed.body.id as string;
    for (const who of [customer, owner, operator]) {
      const res = await stack.api('GET', `/v1/orders/${id}`, { token: who.token });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
    }
    for (const who of [otherCustomer, otherOwner, await createUser(stack.db, 'driver')]) {
      expect((await stack.api('GET', `/v1/orders/${id}`, { token: who.token })).status).toBe(404);
    }
    expect((await stack.api('GET', `/v1/orders/${randomUUID()}`, { token: operator.token })).status).toBe(404);
    expect((await stack.api('GET', '/v1/orders/123', { token: operator.token })).status).toBe(400);
    expect((await stack.api('GET', `/v1/orders/${id}`)).status).toBe(401);
  });
});
