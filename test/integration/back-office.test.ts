// The owner's back office on the real stack: throwing out a lot's unreserved units, pausing and resuming production,
// a location's settings, staff cancelling counter and collection orders, and the live streams that carry each change.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { slotPlannerWorkflow } from '../../workflows/slot.js';
import { productionScheduleId } from '../../src/schedules.js';
import { openSse, type SseClient } from '../support/sse.js';
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
let owner: { id: string; token: string };
let otherOwner: { id: string; token: string };
let operator: { id: string; token: string };
const schedules = new Set<string>();

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Back office bakery' });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  otherOwner = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
  operator = await createUser(stack.db, 'operator');
});

afterAll(async () => {
  // Schedules live on the shared dev server; leave none behind.
  for (const id of schedules)
    await stack?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  await stack?.stop();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const address = { lat: 51.5, lng: -0.1, line1: '1 Back Office Lane' };

async function receive(productId: string, quantity: number, at = locationId, token = owner.token): Promise<number> {
  const res = await stack.api('POST', `/v1/locations/${at}/stock`, { token, body: { productId, quantity } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
}

async function lotRow(lotId: number) {
  return stack
    .db('stock_lots')
    .where({ id: lotId })
    .first<{ quantity: number; available: number; reserved: number; sold: number; discarded: number }>(
      'quantity',
      'available',
      'reserved',
      'sold',
      'discarded',
    );
}

/** The lot as GET /v1/locations/:id/stock lists it. */
async function listedLot(lotId: number, productId: string) {
  const res = await stack.api('GET', `/v1/locations/${locationId}/stock?productId=${productId}`, {
    token: owner.token,
  });
  expect(res.status).toBe(200);
  return res.body.items.find((l: { id: number }) => l.id === lotId);
}

/** A customer's order at the back office's location, held and then confirmed by the bank. */
async function customerOrder(
  productId: string,
  quantity: number,
  opts: { fulfilment?: 'collection'; slotId?: string } = {},
): Promise<{ id: string; customer: { token: string } }> {
  const customer = await createCustomer(stack);
  const slotId = opts.slotId ?? (await createSlot(stack.db, locationId, { capacity: 5 }));
  const placed = await stack.api('POST', '/v1/orders', {
    token: customer.token,
    body: {
      locationId,
      slotId,
      items: [{ productId, quantity }],
      ...(opts.fulfilment ? { fulfilment: opts.fulfilment } : { address }),
    },
  });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  const confirmed = await eventually(
    () => stack.api('GET', `/v1/orders/${placed.body.id}`, { token: customer.token }),
    (r) => r.body.status === 'confirmed',
  );
  expect(confirmed.body.status).toBe('confirmed');
  return { id: placed.body.id, customer };
}

async function counterOrder(productId: string, quantity: number, slotId?: string): Promise<string> {
  const res = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
    token: owner.token,
    body: { items: [{ productId, quantity }], label: 'Back office', ...(slotId ? { slotId } : {}) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe('confirmed');
  return res.body.id;
}

const fields = (body: { details?: { field: string }[] }) => (body.details ?? []).map((d) => d.field);

describe('discarding a lot’s unreserved units', () => {
  it('throws out some or all unreserved units, never the reserved ones, and tells both live streams', async () => {
    const productId = await createProduct(stack.db, { name: 'Dropped tart' });
    const lotId = await receive(productId, 10);
    await customerOrder(productId, 2);
    expect(await lotRow(lotId)).toMatchObject({ available: 8, reserved: 2 });

    const staff = await openSse(`${stack.baseUrl}/v1/locations/${locationId}/events`, { headers: auth(owner.token) });
    const customers = await openSse(`${stack.baseUrl}/v1/locations/${locationId}/slots/events`);
    try {
      const [snapshot] = await staff.waitFor((e) => e.event === 'snapshot');
      expect(snapshot!.data).toEqual({ locationId });
      await customers.waitFor((e) => e.event === 'snapshot');

      const tooMany = await stack.api('POST', `/v1/locations/${locationId}/stock/${lotId}/discard`, {
        token: owner.token,
        body: { quantity: 9 },
      });
      expect(tooMany.status).toBe(409);
      expect(tooMany.body).toMatchObject({ error: 'reserved_units', details: { unreserved: 8 } });
      expect(tooMany.body.message).toMatch(/quantity 9/);
      expect(tooMany.body.message).toMatch(/8 unreserved/);
      expect(await lotRow(lotId)).toMatchObject({ available: 8, reserved: 2, discarded: 0 });

      const some = await stack.api('POST', `/v1/locations/${locationId}/stock/${lotId}/discard`, {
        token: owner.token,
        body: { quantity: 3 },
      });
      expect(some.status, JSON.stringify(some.body)).toBe(200);
      expect(some.body).toMatchObject({ id: lotId, productId, quantity: 10, available: 5, reserved: 2, discarded: 3 });
      expect(some.body).toEqual(await listedLot(lotId, productId));

      const [discarded] = await staff.waitFor((e) => e.event === 'stock.discarded');
      expect(discarded!.data).toMatchObject({ lotId, productId, units: 3, reason: 'staff' });
      expect(typeof discarded!.data.at).toBe('string');
      const [stock] = await customers.waitFor((e) => e.event === 'stock' && e.data.productId === productId);
      expect(stock!.data).toEqual({ productId });

      // Operators may too; left out, the quantity is every unreserved unit.
      const rest = await stack.api('POST', `/v1/locations/${locationId}/stock/${lotId}/discard`, {
        token: operator.token,
        body: {},
      });
      expect(rest.status, JSON.stringify(rest.body)).toBe(200);
      expect(rest.body).toMatchObject({ available: 0, reserved: 2, discarded: 8 });
      await staff.waitFor((e) => e.event === 'stock.discarded', 2);

      // Nothing left to throw out: the same answer, and no event. A request without a body is the same as {}.
      const again = await stack.api('POST', `/v1/locations/${locationId}/stock/${lotId}/discard`, {
        token: owner.token,
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ available: 0, discarded: 8 });
      const row = (await lotRow(lotId))!;
      expect(row.available + row.reserved + row.sold + row.discarded).toBe(row.quantity);
      // The units discarded and the free ones are disjoint sets, and the orders' units are in neither.
      const units = await stack
        .db('stock_lots')
        .where({ id: lotId })
        .first<{ overlap: boolean; free: string }>(
          stack.db.raw('free_units && discarded_units AS overlap'),
          stack.db.raw('free_units::text AS free'),
        );
      expect(units).toEqual({ overlap: false, free: '{}' });
    } finally {
      staff.close();
      customers.close();
    }
    const events = await stack
      .db('events')
      .where({ stream: `location:${locationId}`, type: 'stock.discarded' })
      .whereRaw("(payload->>'lotId')::bigint = ?", [lotId]);
    expect(events.map((e) => e.payload.units)).toEqual([3, 5]);
  });

  it('refuses bad input naming the field, unknown lots, and other owners, changing nothing', async () => {
    const productId = await createProduct(stack.db, { name: 'Kept bun' });
    const lotId = await receive(productId, 4);
    const elsewhere = await createLocation(stack.db, { name: 'Another bakery' });
    const elsewhereOwner = await createUser(stack.db, 'owner', { locationIds: [elsewhere] });
    const foreignLot = (
      await stack.api('POST', `/v1/locations/${elsewhere}/stock`, {
        token: elsewhereOwner.token,
        body: { productId, quantity: 4 },
      })
    ).body.id as number;
    const discard = (at: string, lot: number | string, body: unknown, token = owner.token) =>
      stack.api('POST', `/v1/locations/${at}/stock/${lot}/discard`, { token, body });

    for (const [body, field] of [
      [{ quantity: 0 }, '/body/quantity'],
      [{ quantity: 1.5 }, '/body/quantity'],
      [{ quantity: -2 }, '/body/quantity'],
      [{ quantity: 1, extra: true }, '/body'],
    ] as const) {
      const res = await discard(locationId, lotId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['details', 'error', 'message']);
      expect(fields(res.body), JSON.stringify(res.body)).toContain(field);
    }
    expect((await discard(locationId, 'not-a-lot', { quantity: 1 })).status).toBe(400);
    const unknown = await discard(locationId, 999_999_999, { quantity: 1 });
    expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
    // Another location's lot is not found here, and another location's owner does not find this one.
    expect((await discard(locationId, foreignLot, { quantity: 1 })).status).toBe(404);
    expect((await discard(locationId, lotId, { quantity: 1 }, otherOwner.token)).status).toBe(404);
    const customer = await createCustomer(stack);
    expect((await discard(locationId, lotId, { quantity: 1 }, customer.token)).status).toBe(403);
    expect(await lotRow(lotId)).toMatchObject({ available: 4, discarded: 0 });
    expect(await lotRow(foreignLot)).toMatchObject({ available: 4, discarded: 0 });
  });
});

describe('pausing and resuming production', () => {
  const plan = (product: string) => `/v1/locations/${locationId}/production/${product}`;

  it('pauses and resumes the plan’s Schedule, lists it paused, and tells the back office', async () => {
    const productId = await createProduct(stack.db, { name: 'Paused loaf' });
    const staff = await openSse(`${stack.baseUrl}/v1/locations/${locationId}/events`, { headers: auth(owner.token) });
    try {
      await staff.waitFor((e) => e.event === 'snapshot');
      const put = await stack.api('PUT', plan(productId), {
        token: owner.token,
        body: { everyMinutes: 1440, quantity: 3 },
      });
      expect(put.status).toBe(200);
      schedules.add(productionScheduleId(locationId, productId));

      const paused = await stack.api('PATCH', plan(productId), { token: owner.token, body: { paused: true } });
      expect(paused.status, JSON.stringify(paused.body)).toBe(200);
      expect(paused.body).toMatchObject({
        locationId,
        productId,
        everyMinutes: 1440,
        quantity: 3,
        paused: true,
        nextRunAt: null,
      });
      const schedule = await stack.client.schedule.getHandle(productionScheduleId(locationId, productId)).describe();
      expect(schedule.state.paused).toBe(true);
      const listed = await eventually(
        () => stack.api('GET', `/v1/locations/${locationId}/production`, { token: owner.token }),
        (r) => r.body.plans?.some((p: { productId: string }) => p.productId === productId),
      );
      expect(listed.body.plans.find((p: { productId: string }) => p.productId === productId)).toEqual(paused.body);

      const resumed = await stack.api('PATCH', plan(productId), { token: owner.token, body: { paused: false } });
      expect(resumed.status).toBe(200);
      expect(resumed.body.paused).toBe(false);
      expect(resumed.body.nextRunAt).not.toBeNull();

      expect((await stack.api('DELETE', plan(productId), { token: owner.token })).status).toBe(204);
      const changes = await staff.waitFor((e) => e.event === 'production.changed' && e.data.productId === productId, 4);
      expect(changes.map((e) => Object.keys(e.data).sort())).toEqual(Array(4).fill(['at', 'productId']));
    } finally {
      staff.close();
    }
  });

  it('answers 404 without a plan, and refuses bad bodies and other owners', async () => {
    const productId = await createProduct(stack.db, { name: 'Unplanned loaf' });
    const none = await stack.api('PATCH', plan(productId), { token: owner.token, body: { paused: true } });
    expect([none.status, none.body.error, none.body.message]).toEqual([404, 'not_found', 'Production plan not found']);
    for (const body of [{}, { paused: 'maybe' }, { paused: true, everyMinutes: 5 }]) {
      const res = await stack.api('PATCH', plan(productId), { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message, JSON.stringify(res.body)).toMatch(/paused|additional properties/);
    }
    expect(
      (await stack.api('PATCH', plan(productId), { token: otherOwner.token, body: { paused: true } })).status,
    ).toBe(404);
    expect((await stack.api('PATCH', plan(productId), { token: operator.token, body: { paused: true } })).status).toBe(
      403,
    );
  });
});

describe('a location’s settings', () => {
  it('changes name, radius and hours for its owners and operators, and tells the back office', async () => {
    const at = await createLocation(stack.db, { name: 'Settings bakery' });
    const settingsOwner = await createUser(stack.db, 'owner', { locationIds: [at] });
    const staff = await openSse(`${stack.baseUrl}/v1/locations/${at}/events`, { headers: auth(operator.token) });
    try {
      await staff.waitFor((e) => e.event === 'snapshot');
      const res = await stack.api('PATCH', `/v1/locations/${at}`, {
        token: settingsOwner.token,
        body: { name: '  Renamed bakery ', deliveryRadiusM: 4200, opensAt: '07:30', closesAt: '18:00' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        id: at,
        name: 'Renamed bakery',
        deliveryRadiusM: 4200,
        opensAt: '07:30',
        closesAt: '18:00',
      });
      expect(res.body.ownerIds).toBeUndefined();
      expect((await stack.api('GET', `/v1/locations/${at}`)).body).toEqual(res.body);
      const [changed] = await staff.waitFor((e) => e.event === 'location.changed');
      expect(changed!.data).toMatchObject({ locationId: at });

      const byOperator = await stack.api('PATCH', `/v1/locations/${at}`, {
        token: operator.token,
        body: { closesAt: '19:00' },
      });
      expect(byOperator.status).toBe(200);
      expect(byOperator.body).toMatchObject({ opensAt: '07:30', closesAt: '19:00', deliveryRadiusM: 4200 });
    } finally {
      staff.close();
    }
  });

  it('refuses hours that close before they open, bad radii and bodies, naming the field, and changes nothing', async () => {
    const at = await createLocation(stack.db, { name: 'Strict bakery' });
    const strictOwner = await createUser(stack.db, 'owner', { locationIds: [at] });
    const before = (await stack.api('GET', `/v1/locations/${at}`)).body;
    const cases: [unknown, string][] = [
      [{ opensAt: '10:00', closesAt: '09:00' }, '/body/closesAt'],
      [{ opensAt: '10:00', closesAt: '10:00' }, '/body/closesAt'],
      // Against the hours it keeps (00:00 to 23:59), only the side sent is named.
      [{ closesAt: '00:00' }, '/body/closesAt'],
      [{ deliveryRadiusM: 0 }, '/body/deliveryRadiusM'],
      [{ deliveryRadiusM: 50_001 }, '/body/deliveryRadiusM'],
      [{ deliveryRadiusM: 12.5 }, '/body/deliveryRadiusM'],
      [{ opensAt: '25:00' }, '/body/opensAt'],
      [{ name: '   ' }, '/body/name'],
      [{}, '/body'],
      [{ timezone: 'Europe/Paris' }, '/body'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('PATCH', `/v1/locations/${at}`, { token: strictOwner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('validation_failed');
      if (field !== '/body') expect(fields(res.body), JSON.stringify(res.body)).toContain(field);
    }
    const late = await stack.api('PATCH', `/v1/locations/${at}`, {
      token: strictOwner.token,
      body: { closesAt: '06:00', opensAt: '07:00' },
    });
    expect(late.body.message).toMatch(/closesAt.*06:00.*07:00/);
    expect(
      (await stack.api('PATCH', `/v1/locations/${at}`, { token: otherOwner.token, body: { name: 'Mine' } })).status,
    ).toBe(404);
    expect(
      (await stack.api('PATCH', `/v1/locations/${randomUUID()}`, { token: operator.token, body: { name: 'Nowhere' } }))
        .status,
    ).toBe(404);
    expect((await stack.api('GET', `/v1/locations/${at}`)).body).toEqual(before);
    expect(await stack.db('events').where({ stream: `location:${at}`, type: 'location.changed' })).toEqual([]);
  });
});

describe('staff cancelling orders', () => {
  const cancel = (orderId: string, token = owner.token) => stack.api('POST', `/v1/orders/${orderId}/cancel`, { token });
  const slotReserved = async (slotId: string) =>
    (await stack.db('slots').where({ id: slotId }).first<{ reserved: number }>('reserved'))!.reserved;

  it('cancels a counter order through its workflow: stock back, slot freed', async () => {
    const productId = await createProduct(stack.db, { name: 'Cancelled scone' });
    const lotId = await receive(productId, 6);
    const slotId = await createSlot(stack.db, locationId, { capacity: 3 });
    const orderId = await counterOrder(productId, 2, slotId);
    expect(await lotRow(lotId)).toMatchObject({ available: 4, reserved: 2 });
    expect(await slotReserved(slotId)).toBe(1);

    expect((await cancel(orderId, otherOwner.token)).status).toBe(404);
    expect((await cancel(orderId, operator.token)).status).toBe(403);
    const res = await cancel(orderId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: orderId, status: 'cancelled', reason: 'staff_cancelled' });
    expect(await lotRow(lotId)).toMatchObject({ available: 6, reserved: 0 });
    expect(await slotReserved(slotId)).toBe(0);

    const again = await cancel(orderId);
    expect([again.status, again.body.error]).toEqual([409, 'invalid_transition']);
  });

  it('cancels a customer’s collection order before prep, refuses once prep started, and leaves deliveries to customers', async () => {
    const productId = await createProduct(stack.db, { name: 'Collected pie' });
    const lotId = await receive(productId, 10);
    const collection = await customerOrder(productId, 1, { fulfilment: 'collection' });
    const res = await cancel(collection.id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'cancelled', reason: 'staff_cancelled' });
    // Its customer sees who cancelled it.
    const seen = await stack.api('GET', `/v1/orders/${collection.id}`, { token: collection.customer.token });
    expect(seen.body).toMatchObject({ status: 'cancelled', reason: 'staff_cancelled' });

    const prepping = await counterOrder(productId, 1);
    expect(
      (await stack.api('POST', `/v1/orders/${prepping}/prep`, { token: owner.token, body: { status: 'prepping' } }))
        .status,
    ).toBe(200);
    const refused = await cancel(prepping);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'invalid_transition' });
    expect(refused.body.message).toMatch(/prepping/);
    expect((await stack.api('GET', `/v1/orders/${prepping}`, { token: owner.token })).body.status).toBe('prepping');

    const delivery = await customerOrder(productId, 1);
    const staffRefused = await cancel(delivery.id);
    expect(staffRefused.status).toBe(403);
    expect(staffRefused.body.message).toMatch(/delivery order/);
    expect((await stack.api('GET', `/v1/orders/${delivery.id}`, { token: owner.token })).body.status).toBe('confirmed');
    // Its customer still may.
    const byCustomer = await cancel(delivery.id, delivery.customer.token);
    expect([byCustomer.status, byCustomer.body.status, byCustomer.body.reason]).toEqual([
      200,
      'cancelled',
      'customer_cancelled',
    ]);
    expect(await lotRow(lotId)).toMatchObject({ reserved: 1 });
  });
});

describe('live changes', () => {
  it('carries new slots, catalogue changes and stock to the back office and new slots and stock to customers', async () => {
    const at = await createLocation(stack.db, { name: 'Live bakery' });
    const liveOwner = await createUser(stack.db, 'owner', { locationIds: [at] });
    let staff: SseClient | undefined;
    let customers: SseClient | undefined;
    try {
      staff = await openSse(`${stack.baseUrl}/v1/locations/${at}/events`, { headers: auth(liveOwner.token) });
      customers = await openSse(`${stack.baseUrl}/v1/locations/${at}/slots/events`);
      const [snapshot] = await staff.waitFor((e) => e.event === 'snapshot');
      await customers.waitFor((e) => e.event === 'snapshot');

      const everyDay = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
        weekday,
        start: '12:00',
        end: '13:00',
        capacity: 6,
        cutoffMinutes: 30,
      }));
      expect(
        (await stack.api('PUT', `/v1/locations/${at}/slot-templates`, { token: liveOwner.token, body: everyDay }))
          .status,
      ).toBe(200);
      await stack.client.workflow.execute<typeof slotPlannerWorkflow>('slotPlannerWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `planner-${randomUUID()}`,
        args: [{ daysAhead: 2 }],
      });
      const [opened] = await staff.waitFor((e) => e.event === 'slot.opened');
      const listed = await stack.api('GET', `/v1/locations/${at}/slots`);
      const slot = listed.body.slots.find((s: { id: string }) => s.id === opened!.data.slotId);
      const { id: _id, locationId: _location, ...shown } = slot;
      expect(opened!.data).toEqual({ slotId: slot.id, ...shown, at: opened!.data.at });
      const [newSlot] = await customers.waitFor((e) => e.event === 'slot' && e.data.slotId === slot.id);
      expect(newSlot!.data).toEqual({ slotId: slot.id, ...shown });

      // A capacity change is a slot event with the whole slot.
      expect(
        (
          await stack.api('PATCH', `/v1/locations/${at}/slots/${slot.id}`, {
            token: liveOwner.token,
            body: { capacity: 9 },
          })
        ).status,
      ).toBe(200);
      const [bigger] = await customers.waitFor((e) => e.event === 'slot' && e.data.capacity === 9);
      expect(bigger!.data).toEqual({ ...shown, slotId: slot.id, capacity: 9, remaining: 9 });
      await staff.waitFor((e) => e.event === 'slot.capacity' && e.data.capacity === 9);

      // A product created or changed anywhere reaches every back office.
      const created = await stack.api('POST', '/v1/products', {
        token: liveOwner.token,
        body: { name: 'Live eclair', priceCents: 350, shelfLifeMinutes: 600 },
      });
      expect(created.status).toBe(201);
      const productId = created.body.id as string;
      expect(
        (await stack.api('PATCH', `/v1/products/${productId}`, { token: owner.token, body: { priceCents: 300 } }))
          .status,
      ).toBe(200);
      const catalog = await staff.waitFor((e) => e.event === 'catalog.changed' && e.data.productId === productId, 2);
      expect(Object.keys(catalog[0]!.data).sort()).toEqual(['at', 'productId']);

      await receive(productId, 5, at, liveOwner.token);
      const [received] = await staff.waitFor((e) => e.event === 'stock.received');
      expect(received!.data).toMatchObject({ productId, quantity: 5 });
      const [stock] = await customers.waitFor((e) => e.event === 'stock');
      expect(stock!.data).toEqual({ productId });
      // Customers never see the catalogue's or the back office's own events.
      expect(new Set(customers.events.map((e) => e.event))).toEqual(new Set(['snapshot', 'slot', 'stock']));

      // Resuming from the snapshot replays what was missed, in order, as it was sent live.
      const resumed = await openSse(`${stack.baseUrl}/v1/locations/${at}/events`, {
        headers: { ...auth(liveOwner.token), 'last-event-id': snapshot!.id! },
      });
      const live = staff.events.filter((e) => e.event !== 'snapshot');
      try {
        await resumed.waitFor(() => true, live.length);
        expect(resumed.events.slice(0, live.length).map((e) => [e.id, e.event, e.data])).toEqual(
          live.map((e) => [e.id, e.event, e.data]),
        );
      } finally {
        resumed.close();
      }
    } finally {
      staff?.close();
      customers?.close();
    }
  });

  it('is for the location’s owners and operators only', async () => {
    const url = `${stack.baseUrl}/v1/locations/${locationId}/events`;
    const customer = await createCustomer(stack);
    const driver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
    const answers: number[] = [];
    for (const headers of [
      {},
      auth(customer.token),
      auth(driver.token),
      auth(otherOwner.token),
      { ...auth(owner.token), 'last-event-id': 'yesterday' },
    ]) {
      const client = await openSse(url, { headers });
      answers.push(client.status);
      client.close();
    }
    expect(answers).toEqual([401, 403, 403, 404, 400]);
    const missing = await openSse(`${stack.baseUrl}/v1/locations/${randomUUID()}/events`, {
      headers: auth(operator.token),
    });
    expect(missing.status).toBe(404);
  });
});
