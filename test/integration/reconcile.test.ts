// Orders whose workflow an operator terminated: the reconcile sweep gives back their stock, slot capacity and money
// on the real stack, leaves running and reset orders alone, and waits out its grace period.
import { randomUUID } from 'node:crypto';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileInput, ReconcileResult } from '../../activities/reconcile.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { historyRecorder } from '../support/histories.js';
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
const histories = historyRecorder();
let lastSweep = '';
let locationId: string;
let product: string;
let owner: { id: string; token: string };

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db);
  product = await createProduct(stack.db, { name: 'Reconcile roll', price_cents: 300 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: product, quantity: 50 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  await histories.writeAll();
  await stack?.stop();
});

async function place(customer: { token: string }, slotId: string): Promise<string> {
  const res = await stack.api('POST', '/v1/orders', {
    token: customer.token,
    body: {
      locationId,
      slotId,
      items: [{ productId: product, quantity: 2 }],
      address: { lat: 51.5, lng: -0.1, line1: '3 Sweep Street' },
    },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const order = (id: string) =>
  stack
    .db('orders')
    .where({ id })
    .first<{ status: string; reason: string | null; charge_id: string | null }>('status', 'reason', 'charge_id');
const slotReserved = async (slotId: string) =>
  (await stack.db('slots').where({ id: slotId }).first<{ reserved: number }>('reserved')).reserved;
async function heldUnits(orderId: string): Promise<number> {
  const [row] = await stack
    .db('stock_allocations')
    .where({ order_id: orderId, state: 'reserved' })
    .sum<{ sum: number | null }[]>('quantity as sum');
  return Number(row?.sum ?? 0);
}

/** The worker's count of orders compensated after a termination. */
async function reconciledCount(): Promise<number> {
  const values = (await register.getSingleMetric('orders_reconciled_total')?.get())?.values ?? [];
  return values.filter((v) => v.labels.workflow_status === 'TERMINATED').reduce((sum, v) => sum + v.value, 0);
}

/** One run of the reconcile workflow through the worker, as its Schedule starts it. */
function sweep(input: ReconcileInput): Promise<ReconcileResult> {
  lastSweep = `reconcile-${randomUUID()}`;
  return stack.client.workflow.execute('orderReconcileWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: lastSweep,
    args: [input],
  });
}

describe('the order reconcile sweep', () => {
  it('gives back what terminated orders held, finds a charge the read model never learnt, and leaves running and reset orders alone', async () => {
    const window = { lookbackMs: 10 * 60_000 };
    // Awaiting payment: the charge's hold must be voided.
    const waiting = await createCustomer(stack, { behavior: 'silent' });
    const waitingSlot = await createSlot(stack.db, locationId);
    const waitingId = await place(waiting, waitingSlot);
    // Paid: the captured charge must be refunded.
    const paid = await createCustomer(stack);
    const paidSlot = await createSlot(stack.db, locationId);
    const paidId = await place(paid, paidSlot);
    await eventually(
      () => order(paidId),
      (o) => o.status === 'confirmed',
    );
    // Awaiting payment, and the read model lost the charge id: the sweep asks the bank by the order's idempotency key.
    const lost = await createCustomer(stack, { behavior: 'silent' });
    const lostId = await place(lost, await createSlot(stack.db, locationId));
    // Still running: never touched.
    const running = await createCustomer(stack, { behavior: 'silent' });
    const runningSlot = await createSlot(stack.db, locationId);
    const runningId = await place(running, runningSlot);
    // Terminated, then reset by an operator: its new run carries the order on, so the sweep must leave it.
    const reset = await createCustomer(stack, { behavior: 'silent' });
    const resetSlot = await createSlot(stack.db, locationId);
    const resetId = await place(reset, resetSlot);

    for (const id of [waitingId, paidId, lostId, resetId])
      await stack.client.workflow.getHandle(`order-${id}`).terminate('operator test');
    await stack.db('orders').where({ id: lostId }).update({ charge_id: null });
    const resetHandle = stack.client.workflow.getHandle(`order-${resetId}`);
    const firstTask = (await resetHandle.fetchHistory()).events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    await stack.client.workflowService.resetWorkflowExecution({
      namespace: stack.config.temporal.namespace,
      workflowExecution: { workflowId: `order-${resetId}` },
      reason: 'operator test',
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: randomUUID(),
    });
    expect((await resetHandle.describe()).status.name).toBe('RUNNING');

    const countedBefore = await reconciledCount();
    // Within the grace period nothing is touched.
    const early = await sweep({ ...window, graceMs: 60 * 60_000 });
    expect(early.compensated).not.toContain(waitingId);
    expect((await order(waitingId)).status).toBe('awaiting_payment');
    expect(await slotReserved(waitingSlot)).toBe(1);

    // Visibility catches up with the terminations shortly after they happen: sweep until it has seen all three.
    const compensated = new Set<string>();
    await eventually(
      async () => {
        for (const id of (await sweep({ ...window, graceMs: 0 })).compensated) compensated.add(id);
        return compensated;
      },
      (ids) => [waitingId, paidId, lostId].every((id) => ids.has(id)),
      30_000,
    );
    expect([...compensated].filter((id) => [runningId, resetId].includes(id))).toEqual([]);
    histories.keep('reconcile', lastSweep);
    expect(await reconciledCount()).toBe(countedBefore + compensated.size);

    for (const [id, customer] of [
      [waitingId, waiting],
      [paidId, paid],
      [lostId, lost],
    ] as const) {
      expect(await order(id)).toMatchObject({ status: 'cancelled', reason: 'workflow_ended' });
      expect(await heldUnits(id)).toBe(0);
      const account = await stack.bank.getAccount(customer.accountId);
      expect(account).toMatchObject({ balanceCents: 100_000, heldCents: 0 });
      const events = await stack
        .db('events')
        .where({ stream: `order:${id}`, type: 'order.status' })
        .orderBy('id')
        .select<{ payload: { status: string; reason: string | null } }[]>('payload');
      expect(events.at(-1)!.payload).toMatchObject({ status: 'cancelled', reason: 'workflow_ended' });
    }
    expect((await stack.bank.getCharge((await order(paidId)).charge_id!)).status).toBe('refunded');
    expect((await stack.bank.findCharge(`order-${lostId}`))!.status).toBe('voided');
    expect(await slotReserved(waitingSlot)).toBe(0);
    expect(await slotReserved(paidSlot)).toBe(0);

    // The running order and the reset one keep everything they hold.
    for (const [id, slotId] of [
      [runningId, runningSlot],
      [resetId, resetSlot],
    ] as const) {
      expect((await order(id)).status).toBe('awaiting_payment');
      expect(await slotReserved(slotId)).toBe(1);
      expect(await heldUnits(id)).toBe(2);
    }

    // A second sweep finds nothing left to do.
    expect((await sweep({ ...window, graceMs: 0 })).compensated).toEqual([]);
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);

    // The running orders end the usual way: an operator's cancellation compensates them itself.
    for (const id of [runningId, resetId]) {
      const handle = stack.client.workflow.getHandle(`order-${id}`);
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      expect(await order(id)).toMatchObject({ status: 'cancelled', reason: 'operator_cancelled' });
    }
  });
  it('compensates an order whose workflow failed because an operator terminated its delivery', async () => {
    const customer = await createCustomer(stack);
    const slotId = await createSlot(stack.db, locationId);
    const id = await place(customer, slotId);
    await eventually(
      () => order(id),
      (o) => o.status === 'confirmed',
    );
    for (const status of ['prepping', 'prepped']) {
      expect((await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status } })).status).toBe(
        200,
      );
    }
    const driver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
    const assigned = await eventually(
      () => stack.api('POST', `/v1/deliveries/${id}/assign`, { token: owner.token, body: { driverId: driver.id } }),
      (r) => r.status === 200,
    );
    expect(assigned.status).toBe(200);

    // The order waits on its delivery; a terminated delivery fails the order workflow, which compensates nothing itself.
    await stack.client.workflow.getHandle(`delivery-${id}`).terminate('operator test');
    const orderHandle = stack.client.workflow.getHandle(`order-${id}`);
    await expect(orderHandle.result()).rejects.toThrow();
    expect((await orderHandle.describe()).status.name).toBe('FAILED');
    expect((await order(id)).status).toBe('prepped');

    const result = await eventually(
      () => sweep({ graceMs: 0, lookbackMs: 10 * 60_000 }),
      (r) => r.compensated.includes(id),
      30_000,
    );
    expect(result.compensated).toContain(id);
    expect(await order(id)).toMatchObject({ status: 'cancelled', reason: 'workflow_ended' });
    expect((await stack.bank.getCharge((await order(id)).charge_id!)).status).toBe('refunded');
    expect(await stack.bank.getAccount(customer.accountId)).toMatchObject({ balanceCents: 100_000, heldCents: 0 });
    expect(await slotReserved(slotId)).toBe(0);
    expect(await heldUnits(id)).toBe(0);
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);
  });
});
