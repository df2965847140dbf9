// Production plans and lot timers on the real stack: plan validation, a Schedule baking lots, and a received lot discounted and then discarded on time.
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionScheduleId } from '../../src/schedules.js';
import {
  createLocation,
  createProduct,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let locationId: string;
let owner: { id: string; token: string };
const schedules = new Set<string>();

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Production bakery' });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
});

afterAll(async () => {
  // Schedules live on the shared dev server; leave none behind to fire at a task queue nobody polls.
  for (const id of schedules)
    await stack?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  await stack?.stop();
});

const plan = (location: string, product: string) => `/v1/locations/${location}/production/${product}`;
const scheduleExists = (id: string) =>
  stack.client.schedule
    .getHandle(id)
    .describe()
    .then(
      () => true,
      (err) => {
        if (err instanceof ScheduleNotFoundError) return false;
        throw err;
      },
    );

describe('production plans', () => {
  it('refuses bad plans, naming the field, and creates no schedule', async () => {
    const product = await createProduct(stack.db, { name: 'Refused loaf' });
    const cases: [Record<string, unknown>, string][] = [
      [{ everyMinutes: 0, quantity: 5 }, '/body/everyMinutes'],
      [{ everyMinutes: 1441, quantity: 5 }, '/body/everyMinutes'],
      [{ everyMinutes: 1.5, quantity: 5 }, '/body/everyMinutes'],
      [{ everyMinutes: 30, quantity: 0 }, '/body/quantity'],
      [{ everyMinutes: 30, quantity: 10_001 }, '/body/quantity'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('PUT', plan(locationId, product), { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.details.map((d: { field: string }) => d.field),
        JSON.stringify(res.body),
      ).toContain(field);
    }
    const unknownProduct = await stack.api('PUT', plan(locationId, crypto.randomUUID()), {
      token: owner.token,
      body: { everyMinutes: 30, quantity: 5 },
    });
    expect(unknownProduct.status).toBe(404);
    expect(unknownProduct.body.details.map((d: { field: string }) => d.field)).toEqual(['/params/productId']);
    expect(
      (
        await stack.api('PUT', plan(crypto.randomUUID(), product), {
          token: owner.token,
          body: { everyMinutes: 30, quantity: 5 },
        })
      ).status,
    ).toBe(404);
    const stranger = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
    expect(
      (
        await stack.api('PUT', plan(locationId, product), {
          token: stranger.token,
          body: { everyMinutes: 30, quantity: 5 },
        })
      ).status,
    ).toBe(404);
    const customer = await createUser(stack.db, 'customer');
    expect(
      (
        await stack.api('PUT', plan(locationId, product), {
          token: customer.token,
          body: { everyMinutes: 30, quantity: 5 },
        })
      ).status,
    ).toBe(403);
    expect(await scheduleExists(productionScheduleId(locationId, product))).toBe(false);
    expect((await stack.api('DELETE', plan(locationId, product), { token: owner.token })).status).toBe(404);
  });

  it('bakes lots on its schedule, each with its own timer workflow; a new PUT changes the plan and DELETE stops it', async () => {
    const product = await createProduct(stack.db, { name: 'Scheduled bagel', shelf_life_minutes: 120 });
    const scheduleId = productionScheduleId(locationId, product);
    schedules.add(scheduleId);
    const put = await stack.api('PUT', plan(locationId, product), {
      token: owner.token,
      body: { everyMinutes: 60, quantity: 7 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ locationId, productId: product, everyMinutes: 60, quantity: 7, scheduleId });
    const changed = await stack.api('PUT', plan(locationId, product), {
      token: owner.token,
      body: { everyMinutes: 30, quantity: 9 },
    });
    expect(changed.status).toBe(200);
    const description = await stack.client.schedule.getHandle(scheduleId).describe();
    expect(description.spec.intervals?.[0]?.every).toBe(30 * 60_000);
    expect(description.action.type === 'startWorkflow' && description.action.args).toEqual([
      { locationId, productId: product, quantity: 9 },
    ]);

    // Instead of waiting half an hour for the interval.
    const started = Date.now();
    await stack.client.schedule.getHandle(scheduleId).trigger();
    const lots = await eventually(
      () =>
        stack
          .db('stock_lots')
          .where({ location_id: locationId, product_id: product })
          .select<{ id: number; quantity: number; available: number; expires_at: Date; produced_at: Date }[]>(),
      (rows) => rows.length === 1,
    );
    expect(lots).toHaveLength(1);
    const lot = lots[0]!;
    expect(lot).toMatchObject({ quantity: 9, available: 9 });
    expect(lot.produced_at.getTime()).toBeGreaterThanOrEqual(started - 1_000);
    expect(lot.expires_at.getTime() - lot.produced_at.getTime()).toBe(120 * 60_000);
    const timer = await eventually(
      () =>
        stack.client.workflow
          .getHandle(`lot-${lot.id}`)
          .describe()
          .catch(() => undefined),
      (d) => d?.status.name === 'RUNNING',
    );
    expect(timer?.status.name).toBe('RUNNING');
    const received = await stack
      .db('events')
      .where({ stream: `location:${locationId}`, type: 'stock.received' })
      .whereRaw("(payload->>'lotId')::bigint = ?", [lot.id])
      .first();
    expect(received?.payload).toMatchObject({ productId: product, quantity: 9 });
    await stack.client.workflow.getHandle(`lot-${lot.id}`).terminate('test done');

    expect((await stack.api('DELETE', plan(locationId, product), { token: owner.token })).status).toBe(204);
    expect(await scheduleExists(scheduleId)).toBe(false);
    expect((await stack.api('DELETE', plan(locationId, product), { token: owner.token })).status).toBe(404);
  });
});

describe('a received lot’s timers', () => {
  it('discounts the lot 30 minutes before it stops selling, then discards it at expiry and it leaves availability', async () => {
    const name = `Timed croissant ${crypto.randomUUID().slice(0, 8)}`;
    const product = await createProduct(stack.db, { name, price_cents: 400, eod_discount_percent: 50 });
    // Expiring 30 minutes and 3 seconds from now: the discount starts in 3 seconds, the expiry half an hour later is
    // too long to wait for, so a second lot that expires in 3 seconds shows the discard.
    const discounted = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId: product, quantity: 4, expiresAt: new Date(Date.now() + 30 * 60_000 + 3_000).toISOString() },
    });
    expect(discounted.status).toBe(201);
    const expiring = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId: product, quantity: 6, expiresAt: new Date(Date.now() + 3_000).toISOString() },
    });
    expect(expiring.status).toBe(201);
    const availability = () =>
      stack
        .api('GET', `/v1/availability?lat=51.5&lng=-0.1&q=${encodeURIComponent(name)}`)
        .then((r) => r.body.items.find((i: { productId: string }) => i.productId === product));
    // The short-lived lot is inside its last 30 minutes from the start, so it sells discounted at once.
    expect(await availability()).toMatchObject({ available: 10, discountedAvailable: 6 });

    const discardedEvent = await eventually(
      () =>
        stack
          .db('events')
          .where({ stream: `location:${locationId}`, type: 'stock.discarded' })
          .whereRaw("(payload->>'lotId')::bigint = ?", [expiring.body.id])
          .first(),
      (row) => row !== undefined,
      20_000,
    );
    expect(discardedEvent.payload).toMatchObject({ units: 6, productId: product });
    expect(await stack.db('stock_lots').where({ id: expiring.body.id }).first('available', 'discarded')).toEqual({
      available: 0,
      discarded: 6,
    });
    const discountEvent = await eventually(
      () =>
        stack
          .db('events')
          .where({ stream: `location:${locationId}`, type: 'stock.discounted' })
          .whereRaw("(payload->>'lotId')::bigint = ?", [discounted.body.id])
          .first(),
      (row) => row !== undefined,
      20_000,
    );
    // The timer fires when the lot's discount window opens, at the time the lot was received with.
    expect(discountEvent.payload).toMatchObject({ productId: product, discountFrom: expect.any(String) });
    expect(new Date(discountEvent.payload.discountFrom).getTime()).toBe(
      new Date(discounted.body.discountFrom).getTime(),
    );
    expect(await availability()).toMatchObject({ available: 4, discountedAvailable: 4, priceInEffectCents: 200 });
    await stack.client.workflow.getHandle(`lot-${discounted.body.id}`).terminate('test done');
  });
});
