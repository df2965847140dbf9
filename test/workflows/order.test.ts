// The order workflow's timers and compensation on the time-skipping server, with recording activities in place of the database and bank.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import {
  REFUSAL,
  assignUpdate,
  bankChargeResultSignal,
  cancelUpdate,
  completeUpdate,
  deliveryProgressSignal,
  pickupUpdate,
  prepUpdate,
  slotClosedSignal,
  type OrderInput,
  type OrderState,
} from '../../workflows/messages.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';
import { workflowSpanSinks } from '../../src/telemetry/temporal.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

interface Script {
  stock?: 'reserved' | 'out_of_stock';
  slot?: 'reserved' | 'slot_full' | 'slot_closed';
  /** Milliseconds from the workflow's start to the slot's cutoff. */
  cutoffInMs?: number;
  /** The bank refuses the charge request itself (an unknown account, say), as the real activity reports a 4xx. */
  chargeRefused?: boolean;
  /** How many times an undo step fails before it succeeds. */
  failures?: { releaseSlot?: number; voidCharge?: number };
}

/** Activities that follow a script and record what the workflow asked for, in order. */
function scriptedActivities(script: Script, clock: () => Promise<number>) {
  const calls: string[] = [];
  /** The test server's clock when each activity ran, by name. */
  const at: Record<string, number> = {};
  const failures = { ...script.failures };
  const failing = (step: keyof typeof failures) => {
    if ((failures[step] ?? 0) > 0) {
      failures[step]! -= 1;
      throw ApplicationFailure.create({ message: `${step} is unavailable`, nonRetryable: true });
    }
  };
  const activities: Partial<Activities> = {
    async recordOrderPlaced() {
      calls.push('recordOrderPlaced');
    },
    async recordOrderStatus(change) {
      calls.push(`status:${change.status}${change.reason ? `:${change.reason}` : ''}`);
    },
    async reserveStock(input) {
      calls.push('reserveStock');
      return script.stock === 'out_of_stock'
        ? { status: 'out_of_stock', productIds: [input.lines[0]!.productId] }
        : { status: 'reserved', lines: input.lines.map((l) => ({ ...l, amountCents: l.quantity * 300 })) };
    },
    async releaseStock() {
      calls.push('releaseStock');
    },
    async reserveSlot() {
      calls.push('reserveSlot');
      if (script.slot && script.slot !== 'reserved') return { status: script.slot };
      const now = await clock();
      at.reserveSlot = now;
      return {
        status: 'reserved',
        startsAt: new Date(now + 86_400_000).toISOString(),
        cutoffAt: new Date(now + (script.cutoffInMs ?? 86_400_000)).toISOString(),
      };
    },
    async releaseSlot() {
      calls.push('releaseSlot');
      failing('releaseSlot');
    },
    async requestCharge() {
      calls.push('requestCharge');
      if (script.chargeRefused)
        throw ApplicationFailure.nonRetryable(
          'Bank POST /charges answered 404: Account acct-1 not found',
          'BankRequestRefused',
        );
      return { chargeId: 'charge-1' };
    },
    async voidCharge() {
      calls.push('voidCharge');
      failing('voidCharge');
      at.voidCharge = await clock();
    },
    async recordDeliveryStatus(change) {
      calls.push(`delivery:${change.status}`);
    },
    // The delivery's steps write out_for_delivery and completed; pickup then tells the order, as the real step does.
    async recordPickup(step) {
      calls.push('recordPickup');
      await env.client.workflow
        .getHandle(step.orderWorkflowId)
        .signal(deliveryProgressSignal, { status: 'picked_up', driverId: step.driverId });
    },
    async recordDelivered() {
      calls.push('recordDelivered');
    },
  };
  return { calls, at, activities };
}

function orderInput(): OrderInput {
  return {
    orderId: crypto.randomUUID(),
    customerId: crypto.randomUUID(),
    locationId: crypto.randomUUID(),
    slotId: crypto.randomUUID(),
    slotStartsAt: new Date(Date.now() + 86_400_000).toISOString(),
    slotEndsAt: new Date(Date.now() + 90_000_000).toISOString(),
    bankAccountId: 'acct-1',
    lines: [{ productId: crypto.randomUUID(), quantity: 2, unitPriceCents: 300 }],
    address: { lat: 51.5, lng: -0.1, line1: 'x' },
    paymentTimeoutMs: 10 * 60_000,
  };
}

async function run(
  script: Script,
  whileRunning: (workflowId: string, calls: string[]) => Promise<void> = async () => {},
): Promise<{ result: OrderState | undefined; calls: string[]; at: Record<string, number> }> {
  const { calls, at, activities } = scriptedActivities(script, () => env.currentTimeMs());
  const taskQueue = `wf-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  const input = orderInput();
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
      taskQueue,
      workflowId: `order-${input.orderId}`,
      args: [input],
    });
    await whileRunning(handle.workflowId, calls);
    // A test may end the run by cancelling the workflow; its calls are what count then.
    return handle.result().catch(() => undefined);
  });
  return { result, calls, at };
}

/** Polls the workflow's own view until it shows `status` (the test server's clock stands still meanwhile). */
async function reach(handle: WorkflowHandle, status: OrderState['status']): Promise<OrderState> {
  let state = await handle.query<OrderState>('orderState');
  for (let i = 0; i < 100 && state.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = await handle.query<OrderState>('orderState');
  }
  expect(state.status).toBe(status);
  return state;
}

const refused = (type: string, message: string) => ({ cause: { type, message } });

const HELD = ['recordOrderPlaced', 'reserveStock', 'reserveSlot', 'requestCharge', 'status:awaiting_payment'];

describe('orderWorkflow', () => {
  it('gives up with payment_timeout after the payment timeout and undoes every step in reverse', async () => {
    const { result, calls, at } = await run({});
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'payment_timeout', totalCents: 600 });
    expect(calls).toEqual([
      ...HELD,
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:payment_failed:payment_timeout',
    ]);
    // The timer was skipped, not waited for: the server's clock moved by the payment timeout.
    expect(at.voidCharge! - at.reserveSlot!).toBeGreaterThanOrEqual(10 * 60_000);
    expect(at.voidCharge! - at.reserveSlot!).toBeLessThan(11 * 60_000);
  });

  it('stops waiting at the slot cutoff when it comes before the payment timeout', async () => {
    const { result, calls, at } = await run({ cutoffInMs: 2 * 60_000 });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'slot_closed' });
    expect(calls.slice(-4)).toEqual(['voidCharge', 'releaseSlot', 'releaseStock', 'status:payment_failed:slot_closed']);
    const waited = at.voidCharge! - at.reserveSlot!;
    expect(waited).toBeGreaterThanOrEqual(2 * 60_000 - 1_000);
    expect(waited).toBeLessThan(10 * 60_000);
  });

  it('confirms on approval, taking only the first of duplicate answers', async () => {
    let confirmed: OrderState | undefined;
    const { calls } = await run({}, async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      await handle.signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'approved' });
      await handle.signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'declined' });
      confirmed = await reach(handle, 'confirmed');
      // The order now waits for the shop; the customer ends it there (a terminated run would keep the test server
      // from skipping time for the tests after this one).
      expect(await handle.executeUpdate(cancelUpdate)).toMatchObject({
        status: 'cancelled',
        reason: 'customer_cancelled',
      });
    });
    expect(confirmed?.status).toBe('confirmed');
    expect(calls).toEqual([
      ...HELD,
      'status:confirmed',
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:cancelled:customer_cancelled',
    ]);
  });

  it('records a bank refusal as the reason and voids the charge', async () => {
    const { result, calls } = await run({}, async (workflowId) => {
      await env.client.workflow
        .getHandle(workflowId)
        .signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'insufficient_funds' });
    });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'insufficient_funds' });
    expect(calls.slice(-4)).toEqual([
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:payment_failed:insufficient_funds',
    ]);
  });

  it('ends payment_failed with charge_refused when the bank refuses the request, giving back the slot and stock', async () => {
    const { result, calls } = await run({ chargeRefused: true });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'charge_refused', chargeId: null });
    // Asked once (a refusal does not change on retry), and no charge to void.
    expect(calls).toEqual([
      'recordOrderPlaced',
      'reserveStock',
      'reserveSlot',
      'requestCharge',
      'releaseSlot',
      'releaseStock',
      'status:payment_failed:charge_refused',
    ]);
  });

  it('undoes every step in reverse when an operator cancels the workflow, and ends cancelled', async () => {
    let workflowId = '';
    const { result, calls } = await run({}, async (id) => {
      workflowId = id;
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 50 && (await handle.query<OrderState>('orderState')).status !== 'awaiting_payment'; i++)
        await new Promise((r) => setTimeout(r, 50));
      await handle.cancel();
    });
    expect(result).toBeUndefined();
    expect(calls).toEqual([
      ...HELD,
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:cancelled:operator_cancelled',
    ]);
    expect((await env.client.workflow.getHandle(workflowId).describe()).status.name).toBe('CANCELLED');
  });

  it('rejects out of stock without touching the slot or the bank', async () => {
    const { result, calls } = await run({ stock: 'out_of_stock' });
    expect(result).toMatchObject({ status: 'rejected', reason: 'out_of_stock' });
    expect(calls).toEqual(['recordOrderPlaced', 'reserveStock', 'status:rejected:out_of_stock']);
  });

  it('releases the stock when the slot is full', async () => {
    const { result, calls } = await run({ slot: 'slot_full' });
    expect(result).toMatchObject({ status: 'rejected', reason: 'slot_full' });
    expect(calls).toEqual([
      'recordOrderPlaced',
      'reserveStock',
      'reserveSlot',
      'releaseStock',
      'status:rejected:slot_full',
    ]);
  });

  it('ends payment_failed with slot_closed when the slot closes while it waits for payment, and compensates', async () => {
    const { result, calls, at } = await run({}, async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      await reach(handle, 'awaiting_payment');
      await handle.signal(slotClosedSignal);
    });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'slot_closed', compensationError: null });
    expect(calls).toEqual([...HELD, 'voidCharge', 'releaseSlot', 'releaseStock', 'status:payment_failed:slot_closed']);
    // At once, not at the payment timeout.
    expect(at.voidCharge! - at.reserveSlot!).toBeLessThan(60_000);
  });

  it('follows its delivery to completed, writing none of out_for_delivery and completed itself', async () => {
    let handle: WorkflowHandle | undefined;
    let afterPickup: OrderState | undefined;
    const { result, calls } = await run({}, async (workflowId, calls) => {
      handle = env.client.workflow.getHandle(workflowId);
      await handle.signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'approved' });
      await reach(handle, 'confirmed');
      expect((await handle.executeUpdate(prepUpdate, { args: [{ status: 'prepping' }] })).status).toBe('prepping');
      expect((await handle.executeUpdate(prepUpdate, { args: [{ status: 'prepped' }] })).status).toBe('prepped');
      const delivery = env.client.workflow.getHandle(`delivery-${workflowId.slice('order-'.length)}`);
      for (let i = 0; i < 100 && !calls.includes('delivery:pending'); i++) await new Promise((r) => setTimeout(r, 50));
      await delivery.executeUpdate(assignUpdate, { args: [{ driverId: 'driver-1' }] });
      await delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-1' }] });
      afterPickup = await reach(handle, 'out_for_delivery');
      await delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-1' }] });
    });
    expect(afterPickup).toMatchObject({
      status: 'out_for_delivery',
      delivery: { status: 'picked_up', driverId: 'driver-1' },
    });
    expect(result).toMatchObject({
      status: 'completed',
      reason: null,
      delivery: { status: 'delivered', driverId: 'driver-1' },
    });
    expect(calls).toEqual([
      ...HELD,
      'status:confirmed',
      'status:prepping',
      'status:prepped',
      'delivery:pending',
      'delivery:assigned',
      'recordPickup',
      'recordDelivered',
    ]);
    const { searchAttributes } = await handle!.describe();
    expect(searchAttributes.OrderStatus).toEqual(['completed']);
    expect(searchAttributes.DriverId).toEqual(['driver-1']);
  });

  it('refuses prep from the wrong status and a cancel once prep started, changing nothing', async () => {
    const { calls } = await run({}, async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      await reach(handle, 'awaiting_payment');
      await expect(handle.executeUpdate(prepUpdate, { args: [{ status: 'prepping' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Only a confirmed order can move to prepping; this one is awaiting_payment'),
      );
      await handle.signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'approved' });
      await reach(handle, 'confirmed');
      await expect(handle.executeUpdate(prepUpdate, { args: [{ status: 'prepped' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Only a prepping order can move to prepped; this one is confirmed'),
      );
      await handle.executeUpdate(prepUpdate, { args: [{ status: 'prepping' }] });
      await expect(handle.executeUpdate(prepUpdate, { args: [{ status: 'prepping' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Only a confirmed order can move to prepping; this one is prepping'),
      );
      await expect(handle.executeUpdate(cancelUpdate)).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'An order that is prepping can no longer be cancelled'),
      );
      await reach(handle, 'prepping');
      await handle.cancel();
    });
    expect(calls).toEqual([
      ...HELD,
      'status:confirmed',
      'status:prepping',
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:cancelled:operator_cancelled',
    ]);
  });

  it('refuses a second cancel while the first is compensating, and answers the first once cancelled is written', async () => {
    let answered: OrderState | undefined;
    let compensating: OrderState | undefined;
    let details: string | undefined;
    const { result, calls } = await run({ failures: { voidCharge: 1 } }, async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      await reach(handle, 'awaiting_payment');
      const first = handle.executeUpdate(cancelUpdate);
      // The first void fails, so the order waits before trying again: the first cancel is still at work.
      for (let i = 0; i < 100 && compensating?.compensationError == null; i++) {
        await new Promise((r) => setTimeout(r, 20));
        compensating = await handle.query<OrderState>('orderState');
      }
      // What the Web UI shows meanwhile as the order's current details.
      details = (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
      await expect(handle.executeUpdate(cancelUpdate)).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'An order that is awaiting_payment can no longer be cancelled'),
      );
      answered = await first;
    });
    expect(compensating).toMatchObject({
      status: 'awaiting_payment',
      compensationError: 'voidCharge: voidCharge is unavailable',
    });
    expect(details).toMatch(
      /^compensating: voidCharge failing since \d\d:\d\d UTC, attempt 1: voidCharge is unavailable$/,
    );
    expect(answered).toMatchObject({ status: 'cancelled', reason: 'customer_cancelled', compensationError: null });
    expect(result).toMatchObject({ status: 'cancelled', reason: 'customer_cancelled' });
    expect(calls).toEqual([
      ...HELD,
      'voidCharge',
      'voidCharge',
      'releaseSlot',
      'releaseStock',
      'status:cancelled:customer_cancelled',
    ]);
  });

  it('flags CompensationFailing while an undo step keeps failing and clears it once the step succeeds', async () => {
    let workflowId = '';
    const { result, calls } = await run({ failures: { releaseSlot: 2 } }, async (id) => {
      workflowId = id;
    });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'payment_timeout', compensationError: null });
    expect(calls).toEqual([
      ...HELD,
      'voidCharge',
      'releaseSlot',
      'releaseSlot',
      'releaseSlot',
      'releaseStock',
      'status:payment_failed:payment_timeout',
    ]);
    const handle = env.client.workflow.getHandle(workflowId);
    const flags: unknown[] = [];
    for (const event of (await handle.fetchHistory()).events ?? []) {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      const flag = fields?.CompensationFailing;
      if (flag) flags.push(JSON.parse(Buffer.from(flag.data!).toString()));
    }
    // Raised at the first failure only, lowered once releasing the slot succeeded.
    expect(flags).toEqual([true, false]);
    const { searchAttributes } = await handle.describe();
    expect(searchAttributes.CompensationFailing).toEqual([false]);
    expect(searchAttributes.OrderStatus).toEqual(['payment_failed']);
  });
});
