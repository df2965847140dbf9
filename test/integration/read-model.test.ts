// The order read model only moves forward: a local activity that runs again after a worker died cannot step it back.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Knex } from 'knex';
import { createOrderActivities } from '../../activities/orders.js';
import { createDb } from '../../src/db/knex.js';
import { createLocation, createProduct, createUser, recordPlacedOrder } from '../support/stack.js';
import '../support/context.js';

let db: Knex;

beforeAll(() => {
  db = createDb(inject('databaseUrl'));
});

afterAll(async () => {
  await db?.destroy();
});

it('ignores a replayed earlier status and a replayed earlier delivery step', async () => {
  const activities = createOrderActivities(db);
  const locationId = await createLocation(db);
  const driver = await createUser(db, 'driver', { locationIds: [locationId] });
  const orderId = await recordPlacedOrder(db, { locationId });
  for (const status of ['awaiting_payment', 'confirmed', 'awaiting_payment', 'confirmed', 'prepping'] as const) {
    await activities.recordOrderStatus({ orderId, status });
  }
  for (const status of ['pending', 'assigned', 'pending', 'picked_up', 'assigned'] as const) {
    await activities.recordDeliveryStatus({
      orderId,
      locationId,
      status,
      driverId: status === 'pending' ? null : driver.id,
    });
  }
  expect((await db('orders').where({ id: orderId }).first('status')).status).toBe('prepping');
  expect(await db('deliveries').where({ order_id: orderId }).first('status', 'driver_id')).toEqual({
    status: 'picked_up',
    driver_id: driver.id,
  });
  const events = await db('events')
    .where({ stream: `order:${orderId}` })
    .orderBy('id')
    .select<{ type: string; payload: { status?: string; deliveryStatus?: string } }[]>('type', 'payload');
  expect(events.map((e) => e.payload.status ?? e.payload.deliveryStatus)).toEqual([
    'placed',
    'awaiting_payment',
    'confirmed',
    'prepping',
    'pending',
    'assigned',
    'picked_up',
  ]);
});

it('prices the lines at what the reservation charged, with the total, on the step that records it and on that step alone', async () => {
  const activities = createOrderActivities(db);
  const locationId = await createLocation(db);
  const [bread, buns] = [await createProduct(db), await createProduct(db)];
  const orderId = await recordPlacedOrder(db, {
    locationId,
    lines: [
      { productId: bread, quantity: 2, unitPriceCents: 300 },
      { productId: buns, quantity: 3, unitPriceCents: 100 },
    ],
  });
  const linePrices = async () =>
    Object.fromEntries(
      (
        await db('order_lines')
          .where({ order_id: orderId })
          .select<{ product_id: string; unit_price_cents: number }[]>('product_id', 'unit_price_cents')
      ).map((l) => [l.product_id, l.unit_price_cents]),
    );
  // The reservation took one loaf at its end-of-day price: 300 + 240 for two, 3 × 100 for the buns.
  await activities.recordOrderStatus({
    orderId,
    status: 'awaiting_payment',
    totalCents: 840,
    chargeId: 'c_1',
    lineAmounts: [
      { productId: bread, amountCents: 540 },
      { productId: buns, amountCents: 300 },
    ],
  });
  expect(await linePrices()).toEqual({ [bread]: 270, [buns]: 100 });
  expect(await db('orders').where({ id: orderId }).first('total_cents', 'charge_id')).toEqual({
    total_cents: 840,
    charge_id: 'c_1',
  });
  const told = await db('events')
    .where({ stream: `order:${orderId}`, type: 'order.status' })
    .select<{ payload: { totalCents: number } }[]>('payload');
  expect(told.map((e) => e.payload.totalCents)).toEqual([840]);
  // A replay of the step with other amounts changes nothing.
  await activities.recordOrderStatus({
    orderId,
    status: 'awaiting_payment',
    totalCents: 1,
    lineAmounts: [{ productId: bread, amountCents: 2 }],
  });
  expect(await linePrices()).toEqual({ [bread]: 270, [buns]: 100 });
  expect((await db('orders').where({ id: orderId }).first('total_cents')).total_cents).toBe(840);
});

it('makes one lot per production run, however often the run retries its activity', async () => {
  const { MockActivityEnvironment } = await import('@temporalio/testing');
  const { createProductionActivities } = await import('../../activities/production.js');
  const { produceLot } = createProductionActivities(db);
  const locationId = await createLocation(db);
  const productId = await createProduct(db);
  const run = new MockActivityEnvironment({
    workflowExecution: { workflowId: `production-run-${randomUUID()}`, runId: randomUUID() },
  });
  const first = (await run.run(produceLot, { locationId, productId, quantity: 12 })) as { lotId: number } | null;
  const retried = await run.run(produceLot, { locationId, productId, quantity: 12 });
  expect(first).not.toBeNull();
  expect(retried).toEqual(first);
  expect(await db('stock_lots').where({ location_id: locationId }).count<{ count: number }[]>('* as count')).toEqual([
    { count: 1 },
  ]);
  const other = new MockActivityEnvironment({
    workflowExecution: { workflowId: `production-run-${randomUUID()}`, runId: randomUUID() },
  });
  const another = (await other.run(produceLot, { locationId, productId, quantity: 12 })) as { lotId: number } | null;
  expect(another?.lotId).not.toBe(first?.lotId);
});
