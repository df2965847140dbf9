// Slots on the real stack: weekly plans and their validation, the planner, and a slot closing itself at its cutoff.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlotRepository } from '../../src/db/repositories/slots.js';
import type { slotPlannerWorkflow, slotWorkflow } from '../../workflows/slot.js';
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

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Slot bakery' });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
});

afterAll(async () => {
  await stack?.stop();
});

const template = (weekday: number, start: string, end: string, extra: Record<string, unknown> = {}) => ({
  weekday,
  start,
  end,
  capacity: 4,
  cutoffMinutes: 30,
  ...extra,
});

describe('slot templates', () => {
  it('refuses a plan that makes no sense, naming the field, and keeps the old plan', async () => {
    const good = await stack.api('PUT', `/v1/locations/${locationId}/slot-templates`, {
      token: owner.token,
      body: [template(1, '09:00', '10:00')],
    });
    expect(good.status).toBe(200);
    const cases: [unknown, string][] = [
      [[template(1, '09:00', '11:00'), template(1, '10:00', '12:00')], '/body/1/start'],
      [[template(2, '10:00', '09:00')], '/body/0/end'],
      [[template(2, '09:00', '10:00', { capacity: 0 })], '/body/0/capacity'],
      [[template(2, '09:00', '10:00', { cutoffMinutes: -5 })], '/body/0/cutoffMinutes'],
      [[template(8, '09:00', '10:00')], '/body/0/weekday'],
      [[template(2, '9am', '10:00')], '/body/0/start'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('PUT', `/v1/locations/${locationId}/slot-templates`, { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(
      await stack.db('slot_templates').where({ location_id: locationId }).count<{ count: number }[]>('* as count'),
    ).toEqual([{ count: 1 }]);
    const stranger = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
    expect(
      (await stack.api('PUT', `/v1/locations/${locationId}/slot-templates`, { token: stranger.token, body: [] }))
        .status,
    ).toBe(404);
  });

  it('becomes slots for the coming days, each with its own workflow, and planning again changes nothing', async () => {
    const location = await createLocation(stack.db, { name: 'Planned bakery' });
    const planner = await createUser(stack.db, 'owner', { locationIds: [location] });
    const everyDay = [1, 2, 3, 4, 5, 6, 7].map((d) => template(d, '12:00', '13:00'));
    expect(
      (await stack.api('PUT', `/v1/locations/${location}/slot-templates`, { token: planner.token, body: everyDay }))
        .status,
    ).toBe(200);
    const run = () =>
      stack.client.workflow.execute<typeof slotPlannerWorkflow>('slotPlannerWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `planner-${crypto.randomUUID()}`,
        args: [{ daysAhead: 3 }],
      });
    // The planner plans every location, and the schedule that saving a plan triggers may have planned this one
    // already (other test files share the server): count this location's slots, not what one run created.
    const slotsHere = async () =>
      Number(
        (await stack.db('slots').where({ location_id: location }).count<{ count: string }[]>('* as count'))[0]!.count,
      );
    await run();
    const plannedHere = await slotsHere();
    expect(plannedHere).toBeGreaterThanOrEqual(2);
    const slots = await stack.api('GET', `/v1/locations/${location}/slots`);
    expect(slots.status).toBe(200);
    const planned = slots.body.slots.filter((s: { capacity: number }) => s.capacity === 4);
    expect(planned.length).toBeGreaterThanOrEqual(2);
    expect(planned[0]).toMatchObject({ capacity: 4, reserved: 0, remaining: 4, status: 'open' });
    expect(Date.parse(planned[0].startsAt) - Date.parse(planned[0].cutoffAt)).toBe(30 * 60_000);
    const description = await stack.client.workflow.getHandle(`slot-${planned[0].id}`).describe();
    expect(description.status.name).toBe('RUNNING');
    await run();
    expect(await slotsHere()).toBe(plannedHere);
  });
});

describe('a slot at its cutoff', () => {
  it('closes at its cutoff, not before, says so in its location stream, and then refuses orders', async () => {
    const slotId = await createSlot(stack.db, locationId, {
      startsInMs: 60 * 60_000,
      cutoffBeforeMs: 60 * 60_000 - 3_000,
    });
    const { cutoff_at: cutoffAt } = await stack.db('slots').where({ id: slotId }).first('cutoff_at');
    await stack.client.workflow.start<typeof slotWorkflow>('slotWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `slot-${slotId}`,
      args: [{ slotId }],
    });
    const closed = await eventually(
      () =>
        stack
          .db('events')
          .where({ stream: `location:${locationId}`, type: 'slot.capacity' })
          .whereRaw("payload->>'slotId' = ? AND payload->>'status' = 'closed'", [slotId])
          .first('payload', 'created_at'),
      (row) => row !== undefined,
      15_000,
    );
    // The whole slot, so a live view that has not seen it yet can show it.
    expect(closed?.payload).toEqual({
      slotId,
      startsAt: expect.any(String),
      endsAt: expect.any(String),
      cutoffAt: new Date(cutoffAt).toISOString(),
      capacity: 10,
      reserved: 0,
      remaining: 10,
      status: 'closed',
      statusChanged: true,
    });
    // How soon after the cutoff is a figure of `npm run bench -- slots`; here only that it is not before.
    expect(new Date(closed.created_at).getTime()).toBeGreaterThanOrEqual(new Date(cutoffAt).getTime());
    expect((await stack.db('slots').where({ id: slotId }).first('status')).status).toBe('closed');

    const product = await createProduct(stack.db);
    await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId: product, quantity: 5 },
    });
    const customer = await createCustomer(stack);
    const late = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId,
        slotId,
        items: [{ productId: product, quantity: 1 }],
        address: { lat: 51.5, lng: -0.1, line1: 'x' },
      },
    });
    expect(late.status).toBe(409);
    expect(late.body.error).toBe('slot_closed');
  });

  it('refuses changes that break the slot, and a moved cutoff moves the timer', async () => {
    const slotId = await createSlot(stack.db, locationId, { startsInMs: 2 * 3_600_000, capacity: 5 });
    await stack.client.workflow.start<typeof slotWorkflow>('slotWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: `slot-${slotId}`,
      args: [{ slotId }],
    });
    await stack.db('slots').where({ id: slotId }).update({ reserved: 3 });
    const tooSmall = await stack.api('PATCH', `/v1/locations/${locationId}/slots/${slotId}`, {
      token: owner.token,
      body: { capacity: 2 },
    });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.details[0].field).toBe('/body/capacity');
    const afterStart = await stack.api('PATCH', `/v1/locations/${locationId}/slots/${slotId}`, {
      token: owner.token,
      body: { cutoffAt: new Date(Date.now() + 3 * 3_600_000).toISOString() },
    });
    expect(afterStart.status).toBe(400);
    expect(afterStart.body.details[0].field).toBe('/body/cutoffAt');
    expect((await stack.db('slots').where({ id: slotId }).first('capacity')).capacity).toBe(5);

    const moved = await stack.api('PATCH', `/v1/locations/${locationId}/slots/${slotId}`, {
      token: owner.token,
      body: { cutoffAt: new Date(Date.now() + 2_000).toISOString() },
    });
    expect(moved.status).toBe(200);
    const status = await eventually(
      async () => (await stack.db('slots').where({ id: slotId }).first('status')).status,
      (s) => s === 'closed',
      30_000,
    );
    expect(status).toBe('closed');
  });
});

describe('a slot taking holds', () => {
  it('takes a hold while an order for the same slot is still being written, without waiting for it to commit', async () => {
    const slotId = await createSlot(stack.db, locationId, { capacity: 5 });
    const customer = await createUser(stack.db, 'customer');
    const slots = createSlotRepository(stack.db);
    const writing = await stack.db.transaction();
    try {
      // An order for the slot, not yet committed: its foreign key holds the slot's row FOR KEY SHARE.
      await writing('orders').insert({
        id: randomUUID(),
        customer_id: customer.id,
        location_id: locationId,
        slot_id: slotId,
        status: 'placed',
        total_cents: 500,
        address: { lat: 51.5, lng: -0.1, line1: '1 Queue Street' },
      });
      const held = await Promise.race([
        slots.reserveHold(randomUUID(), slotId),
        sleep(3_000).then(() => 'still waiting for the order to commit'),
      ]);
      expect(held).toMatchObject({ status: 'reserved' });
    } finally {
      await writing.rollback();
    }
    expect(await stack.db('slots').where({ id: slotId }).first('reserved')).toEqual({ reserved: 1 });
  });
});
