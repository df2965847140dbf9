// Every path of the order saga on the real stack: HTTP, the dev server, Postgres, and the bank answering through its signed webhook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { historyRecorder } from '../support/histories.js';
import {
  createLocation,
  createProduct,
  createSlot,
  createUser,
  createCustomer,
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
let otherDriver: { id: string; token: string };

beforeAll(async () => {
  stack = await startTestStack({ PAYMENT_TIMEOUT_MS: '3000' });
  histories = historyRecorder();
  locationId = await createLocation(stack.db);
  product = await createProduct(stack.db, { name: 'Saga bun', price_cents: 250 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  driver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
  otherDriver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: product, quantity: 200 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  await histories?.writeAll();
  await stack?.stop();
});

async function place(customer: { token: string }, opts: { slotId?: string; quantity?: number } = {}) {
  const slotId = opts.slotId ?? (await createSlot(stack.db, locationId));
  return stack.api('POST', '/v1/orders', {
    token: customer.token,
    body: {
      locationId,
      slotId,
      items: [{ productId: product, quantity: opts.quantity ?? 2 }],
      address: { lat: 51.5, lng: -0.1, line1: '2 Saga Road' },
    },
  });
}

async function orderUntil(id: string, token: string, status: string) {
  const res = await eventually(
    () => stack.api('GET', `/v1/orders/${id}`, { token }),
    (r) => r.body.status === status,
  );
  expect(res.body.status).toBe(status);
  return res.body;
}

async function slotReserved(slotId: string): Promise<number> {
  return (await stack.db('slots').where({ id: slotId }).first('reserved')).reserved;
}

async function heldUnits(orderId: string): Promise<number> {
  const [row] = await stack
    .db('stock_allocations')
    .where({ order_id: orderId, state: 'reserved' })
    .sum<{ sum: number | null }[]>('quantity as sum');
  return Number(row?.sum ?? 0);
}

/** Waits for the workflow to close and checks that it closed as cancelled. */
async function expectCancelled(workflowId: string) {
  const handle = stack.client.workflow.getHandle(workflowId);
  await expect(handle.result()).rejects.toThrow();
  expect((await handle.describe()).status.name).toBe('CANCELLED');
}

async function expectInvariants() {
  expect(await checkInventoryInvariants(stack.db)).toEqual([]);
}

describe('the order saga', () => {
  it('runs the happy path to completed: paid, prepped, assigned, picked up, delivered, slot released', async () => {
    const customer = await createCustomer(stack);
    const slotId = await createSlot(stack.db, locationId);
    const placed = await place(customer, { slotId });
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe('awaiting_payment');
    expect(placed.body.totalCents).toBe(500);
    expect(await slotReserved(slotId)).toBe(1);

    const id = placed.body.id as string;
    await orderUntil(id, customer.token, 'confirmed');
    expect((await stack.bank.getAccount(customer.accountId)).balanceCents).toBe(100_000 - 500);

    expect(
      (await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status: 'prepping' } })).body
        .status,
    ).toBe('prepping');
    expect(
      (await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status: 'prepped' } })).body
        .status,
    ).toBe('prepped');

    const pending = await eventually(
      () => stack.api('GET', '/v1/deliveries?status=pending', { token: owner.token }),
      (r) => r.body.deliveries?.some((d: { orderId: string }) => d.orderId === id),
    );
    expect(pending.body.deliveries.map((d: { orderId: string }) => d.orderId)).toContain(id);

    const assigned = await stack.api('POST', `/v1/deliveries/${id}/assign`, {
      token: owner.token,
      body: { driverId: driver.id },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ status: 'assigned', driverId: driver.id });
    const mine = await stack.api('GET', '/v1/deliveries', { token: driver.token });
    expect(mine.body.deliveries.map((d: { orderId: string }) => d.orderId)).toContain(id);

    expect((await stack.api('POST', `/v1/deliveries/${id}/pickup`, { token: driver.token })).status).toBe(200);
    await orderUntil(id, customer.token, 'out_for_delivery');
    expect((await stack.api('POST', `/v1/deliveries/${id}/complete`, { token: driver.token })).status).toBe(200);
    const done = await orderUntil(id, customer.token, 'completed');
    expect(done.timeline.map((e: { status: string | null }) => e.status).filter(Boolean)).toEqual(
      expect.arrayContaining([
        'placed',
        'awaiting_payment',
        'confirmed',
        'prepping',
        'prepped',
        'out_for_delivery',
        'completed',
      ]),
    );
    expect(await slotReserved(slotId)).toBe(0);
    // The read model shows completed as soon as the delivery's step commits; the workflow closes right after.
    const handle = stack.client.workflow.getHandle(`order-${id}`);
    expect((await handle.result()).status).toBe('completed');
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes.DriverId).toEqual([driver.id]);
    histories.keep('completed', `order-${id}`);
    histories.keep('delivery', `delivery-${id}`);
    await expectInvariants();
  });

  it('refuses an order it cannot fill with 409 out_of_stock, holding nothing', async () => {
    const scarce = await createProduct(stack.db, { name: 'Last loaf', price_cents: 900 });
    await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId: scarce, quantity: 1 },
    });
    const customer = await createCustomer(stack);
    const slotId = await createSlot(stack.db, locationId);
    const res = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId,
        slotId,
        items: [
          { productId: product, quantity: 1 },
          { productId: scarce, quantity: 2 },
        ],
        address: { lat: 51.5, lng: -0.1, line1: 'x' },
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('out_of_stock');
    histories.keep('out_of_stock', `order-${res.body.details.orderId}`);
    // All or nothing: the line that could be filled holds nothing either.
    expect(await heldUnits(res.body.details.orderId)).toBe(0);
    expect(await slotReserved(slotId)).toBe(0);
    await expectInvariants();
  });

  it('refuses a full slot with 409 slot_full and gives the stock back', async () => {
    const slotId = await createSlot(stack.db, locationId, { capacity: 1 });
    const first = await place(await createCustomer(stack), { slotId });
    expect(first.status).toBe(201);
    const second = await place(await createCustomer(stack), { slotId });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('slot_full');
    histories.keep('slot_full', `order-${second.body.details.orderId}`);
    expect(await heldUnits(second.body.details.orderId)).toBe(0);
    expect(await slotReserved(slotId)).toBe(1);
    await expectInvariants();
  });

  it('refuses a slot past its cutoff with 409 slot_closed', async () => {
    const slotId = await createSlot(stack.db, locationId, { startsInMs: 5 * 60_000, cutoffBeforeMs: 10 * 60_000 });
    const res = await place(await createCustomer(stack), { slotId });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('slot_closed');
    expect(await slotReserved(slotId)).toBe(0);
  });

  for (const [name, account, reason] of [
    ['insufficient funds', { balanceCents: 100 }, 'insufficient_funds'],
    ['a decline', { behavior: 'decline' as const }, 'declined'],
    ['a bank that never answers', { behavior: 'silent' as const }, 'payment_timeout'],
  ] as const) {
    it(`compensates after ${name}: payment_failed(${reason}), slot and stock released, charge voided`, async () => {
      const customer = await createCustomer(stack, account);
      const slotId = await createSlot(stack.db, locationId);
      const placed = await place(customer, { slotId });
      expect(placed.status).toBe(201);
      const failed = await orderUntil(placed.body.id, customer.token, 'payment_failed');
      expect(failed.reason).toBe(reason);
      histories.keep(reason, `order-${placed.body.id}`);
      expect(await slotReserved(slotId)).toBe(0);
      expect(await heldUnits(placed.body.id)).toBe(0);
      const account2 = await stack.bank.getAccount(customer.accountId);
      expect(account2.heldCents).toBe(0);
      expect(account2.balanceCents).toBe(account.balanceCents ?? 100_000);
      await expectInvariants();
    });
  }

  it('cancels before payment: voids the charge and releases everything', async () => {
    const customer = await createCustomer(stack, { behavior: 'silent' });
    const slotId = await createSlot(stack.db, locationId);
    const placed = await place(customer, { slotId });
    const cancelled = await stack.api('POST', `/v1/orders/${placed.body.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', reason: 'customer_cancelled' });
    histories.keep('cancelled_before_payment', `order-${placed.body.id}`);
    // The order's workflow has finished: a second cancel is too late, not a missing order.
    const again = await stack.api('POST', `/v1/orders/${placed.body.id}/cancel`, { token: customer.token });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('invalid_transition');
    expect(await slotReserved(slotId)).toBe(0);
    expect((await stack.bank.getAccount(customer.accountId)).heldCents).toBe(0);
    await expectInvariants();
  });

  it('cancels after payment: refunds the captured charge', async () => {
    const customer = await createCustomer(stack);
    const placed = await place(customer);
    await orderUntil(placed.body.id, customer.token, 'confirmed');
    const cancelled = await stack.api('POST', `/v1/orders/${placed.body.id}/cancel`, { token: customer.token });
    expect(cancelled.body.status).toBe('cancelled');
    histories.keep('cancelled_after_payment', `order-${placed.body.id}`);
    const { charge_id: chargeId } = await stack.db('orders').where({ id: placed.body.id }).first('charge_id');
    const charge = await stack.bank.getCharge(chargeId);
    expect(charge.status).toBe('refunded');
    expect((await stack.bank.getAccount(customer.accountId)).balanceCents).toBe(100_000);
    await expectInvariants();
  });

  it('compensates when an operator cancels the workflow in Temporal, whether it awaits payment or its delivery started', async () => {
    // Awaiting payment: the charge's hold is voided and the stock and slot go back.
    const silent = await createCustomer(stack, { behavior: 'silent' });
    const waitingSlot = await createSlot(stack.db, locationId);
    const waiting = await place(silent, { slotId: waitingSlot });
    expect(waiting.body.status).toBe('awaiting_payment');
    await stack.client.workflow.getHandle(`order-${waiting.body.id}`).cancel();
    const voided = await orderUntil(waiting.body.id, silent.token, 'cancelled');
    expect(voided.reason).toBe('operator_cancelled');
    histories.keep('operator_cancelled', `order-${waiting.body.id}`);
    // The read model shows it as soon as compensation is recorded; the workflow closes right after.
    await expectCancelled(`order-${waiting.body.id}`);
    expect((await stack.bank.getAccount(silent.accountId)).heldCents).toBe(0);
    expect(await slotReserved(waitingSlot)).toBe(0);
    expect(await heldUnits(waiting.body.id)).toBe(0);

    // Prepped with a driver assigned: the delivery is cancelled with its order and the captured charge refunded.
    const customer = await createCustomer(stack);
    const slotId = await createSlot(stack.db, locationId);
    const placed = await place(customer, { slotId });
    const id = placed.body.id as string;
    await orderUntil(id, customer.token, 'confirmed');
    for (const status of ['prepping', 'prepped']) {
      expect((await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status } })).status).toBe(
        200,
      );
    }
    await eventually(
      () => stack.api('GET', '/v1/deliveries?status=pending', { token: owner.token }),
      (r) => r.body.deliveries?.some((d: { orderId: string }) => d.orderId === id),
    );
    expect(
      (await stack.api('POST', `/v1/deliveries/${id}/assign`, { token: owner.token, body: { driverId: driver.id } }))
        .status,
    ).toBe(200);
    await stack.client.workflow.getHandle(`order-${id}`).cancel();
    const cancelled = await orderUntil(id, customer.token, 'cancelled');
    expect(cancelled.reason).toBe('operator_cancelled');
    histories.keep('operator_cancelled_in_delivery', `order-${id}`);
    const { charge_id: chargeId } = await stack.db('orders').where({ id }).first('charge_id');
    expect((await stack.bank.getCharge(chargeId)).status).toBe('refunded');
    expect((await stack.bank.getAccount(customer.accountId)).balanceCents).toBe(100_000);
    expect(await slotReserved(slotId)).toBe(0);
    expect(await heldUnits(id)).toBe(0);
    await expectCancelled(`order-${id}`);
    await expectCancelled(`delivery-${id}`);
    // The delivery is over: it leaves the driver's list and can no longer be picked up.
    const mine = await stack.api('GET', '/v1/deliveries', { token: driver.token });
    expect(mine.body.deliveries.map((d: { orderId: string }) => d.orderId)).not.toContain(id);
    expect((await stack.api('POST', `/v1/deliveries/${id}/pickup`, { token: driver.token })).status).toBe(409);
    await expectInvariants();
  });

  it('refuses invalid transitions with 409, a wrong driver with 403, and strangers with 404', async () => {
    const customer = await createCustomer(stack, { behavior: 'silent' });
    const unpaid = await place(customer);
    const prepUnpaid = await stack.api('POST', `/v1/orders/${unpaid.body.id}/prep`, {
      token: owner.token,
      body: { status: 'prepping' },
    });
    expect(prepUnpaid.status).toBe(409);
    expect(prepUnpaid.body.error).toBe('invalid_transition');
    const stranger = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
    expect(
      (
        await stack.api('POST', `/v1/orders/${unpaid.body.id}/prep`, {
          token: stranger.token,
          body: { status: 'prepping' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await stack.api('POST', `/v1/orders/${unpaid.body.id}/cancel`, { token: (await createCustomer(stack)).token }))
        .status,
    ).toBe(404);

    const payer = await createCustomer(stack);
    const paid = await place(payer);
    const id = paid.body.id as string;
    await orderUntil(id, payer.token, 'confirmed');
    expect(
      (await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status: 'prepped' } })).status,
    ).toBe(409);
    await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status: 'prepping' } });
    const lateCancel = await stack.api('POST', `/v1/orders/${id}/cancel`, { token: payer.token });
    expect(lateCancel.status).toBe(409);
    await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status: 'prepped' } });
    await eventually(
      () => stack.api('GET', '/v1/deliveries', { token: owner.token }),
      (r) => r.body.deliveries?.some((d: { orderId: string }) => d.orderId === id),
    );

    expect((await stack.api('POST', `/v1/deliveries/${id}/pickup`, { token: driver.token })).status).toBe(409);
    expect(
      (await stack.api('POST', `/v1/deliveries/${id}/assign`, { token: owner.token, body: { driverId: driver.id } }))
        .status,
    ).toBe(200);
    const twice = await stack.api('POST', `/v1/deliveries/${id}/assign`, {
      token: owner.token,
      body: { driverId: otherDriver.id },
    });
    expect(twice.status).toBe(409);
    const wrong = await stack.api('POST', `/v1/deliveries/${id}/pickup`, { token: otherDriver.token });
    expect(wrong.status).toBe(403);
    expect((await stack.api('POST', `/v1/deliveries/${id}/complete`, { token: driver.token })).status).toBe(409);
    expect(
      (await stack.api('POST', `/v1/deliveries/${crypto.randomUUID()}/pickup`, { token: driver.token })).status,
    ).toBe(404);
    await expectInvariants();
  });
});
