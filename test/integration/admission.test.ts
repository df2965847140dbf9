// Admission control on the real stack: with room for one placement at a time and no wait, a burst of orders gets
// 201s and quick 503 overloaded answers with Retry-After, counted in /metrics, and a refused order leaves nothing behind
// (not even its idempotency key).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let locationId: string;
let slotId: string;
let productId: string;
let owner: { id: string; token: string };

beforeAll(async () => {
  stack = await startTestStack({
    ORDER_ADMISSION_INITIAL_LIMIT: '1',
    ORDER_ADMISSION_MAX_LIMIT: '1',
    ORDER_ADMISSION_MAX_WAIT_MS: '0',
  });
  locationId = await createLocation(stack.db);
  productId = await createProduct(stack.db);
  slotId = await createSlot(stack.db, locationId, { capacity: 100 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId, quantity: 100 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

const place = (token: string, headers: Record<string, string> = {}) =>
  stack.api('POST', '/v1/orders', {
    token,
    headers,
    body: {
      locationId,
      slotId,
      items: [{ productId, quantity: 1 }],
      address: { lat: 51.5, lng: -0.1, line1: '1 Burst Street' },
    },
  });

async function shedCount(): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/metrics`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith('order_admission_refusals_total '));
  return Number(line?.split(' ')[1]);
}

describe('admission control of order placement', () => {
  it('refuses what it has no room for with 503 overloaded and Retry-After, and holds stock only for what it placed', async () => {
    const customers = await Promise.all(Array.from({ length: 8 }, () => createCustomer(stack)));
    const before = await shedCount();
    // Each with its own Idempotency-Key, as a careful client sends.
    const answers = await Promise.all(customers.map((c, i) => place(c.token, { 'idempotency-key': `burst-${i}` })));

    const placed = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 503);
    expect(placed.length + refused.length).toBe(answers.length);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ error: 'overloaded', details: { retryAfterSeconds: expect.any(Number) } });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await shedCount()) - before).toBe(refused.length);

    // Only the placed orders exist, and only they hold stock.
    const orders = await stack.db('orders').whereIn(
      'customer_id',
      customers.map((c) => c.id),
    );
    expect(orders.map((o) => o.id).sort()).toEqual(placed.map((a) => a.body.id).sort());
    const reserved = await stack
      .db('stock_allocations')
      .where({ product_id: productId })
      .whereIn('state', ['reserved', 'sold'])
      .sum<{ units: string }[]>({ units: 'quantity' });
    expect(Number(reserved[0]!.units)).toBe(placed.length);
    // A refusal comes before the request's own work: a refused order has claimed no key, so its retry starts afresh.
    const keys = await stack.db('idempotency_keys').whereIn(
      'customer_id',
      customers.map((c) => c.id),
    );
    expect(keys.map((k) => k.order_id).sort()).toEqual(placed.map((a) => a.body.id).sort());
  });

  it('refuses nothing while placements come one at a time', async () => {
    const before = await shedCount();
    for (let i = 0; i < 4; i++) {
      const customer = await createCustomer(stack);
      const answer = await place(customer.token);
      expect(answer.status).toBe(201);
    }
    expect(await shedCount()).toBe(before);
  });
});
