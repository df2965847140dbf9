// The order workflow's timers and compensation on the time-skipping server, with recording activities in place of the database and bank.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { bankChargeResultSignal, type OrderInput, type OrderState } from '../../workflows/messages.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';

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
}

/** Activities that follow a script and record what the workflow asked for, in order. */
function scriptedActivities(script: Script, clock: () => Promise<number>) {
  const calls: string[] = [];
  /** The test server's clock when each activity ran, by name. */
  const at: Record<string, number> = {};
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
    async commitStock() {
      calls.push('commitStock');
    },
    async reserveSlot() {
      calls.push('reserveSlot');
      if (script.slot && script.slot !== 'reserved') return { status: script.slot };
      const now = await clock();
      at.reserveSlot = now;
      return { status: 'reserved', startsAt: new Date(now + 86_400_000).toISOString(), cutoffAt: new Date(now + (script.cutoffInMs ?? 86_400_000)).toISOString() };
    },
    async releaseSlot() {
      calls.push('releaseSlot');
    },
    async requestCharge() {
      calls.push('requestCharge');
      return { chargeId: 'charge-1' };
    },
    async voidCharge() {
      calls.push('voidCharge');
      at.voidCharge = await clock();
    },
    async recordDeliveryStatus() {
      calls.push('recordDeliveryStatus');
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

async function run(script: Script, whileRunning: (workflowId: string) => Promise<void> = async () => {}): Promise<{ result: OrderState | undefined; calls: string[]; at: Record<string, number> }> {
  const { calls, at, activities } = scriptedActivities(script, () => env.currentTimeMs());
  const taskQueue = `wf-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities,
  });
  const input = orderInput();
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', { taskQueue, workflowId: `order-${input.orderId}`, args: [input] });
    await whileRunning(handle.workflowId);
    // A test may end the run by terminating the workflow; its calls are what count then.
    return handle.result().catch(() => undefined);
  });
  return { result, calls, at };
}

const HELD = ['recordOrderPlaced', 'reserveStock', 'reserveSlot', 'requestCharge', 'status:awaiting_payment'];

describe('orderWorkflow', () => {
  it('gives up with payment_timeout after the payment timeout and undoes every step in reverse', async () => {
    const { result, calls, at } = await run({});
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'payment_timeout', totalCents: 600 });
    expect(calls).toEqual([...HELD, 'voidCharge', 'releaseSlot', 'releaseStock', 'status:payment_failed:payment_timeout']);
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
      // The order now waits for the shop; end the test run there.
      for (let i = 0; i < 50 && confirmed?.status !== 'confirmed'; i++) {
        confirmed = await handle.query('orderState');
        if (confirmed?.status !== 'confirmed') await new Promise((r) => setTimeout(r, 50));
      }
      await handle.terminate('test done');
    });
    expect(confirmed?.status).toBe('confirmed');
    expect(calls).toEqual([...HELD, 'status:confirmed']);
  });

  it('records a bank refusal as the reason and voids the charge', async () => {
    const { result, calls } = await run({}, async (workflowId) => {
      await env.client.workflow.getHandle(workflowId).signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'insufficient_funds' });
    });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'insufficient_funds' });
    expect(calls.slice(-4)).toEqual(['voidCharge', 'releaseSlot', 'releaseStock', 'status:payment_failed:insufficient_funds']);
  });

  it('undoes every step in reverse when an operator cancels the workflow, and ends cancelled', async () => {
    let workflowId = '';
    const { result, calls } = await run({}, async (id) => {
      workflowId = id;
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 50 && (await handle.query<OrderState>('orderState')).status !== 'awaiting_payment'; i++) await new Promise((r) => setTimeout(r, 50));
      await handle.cancel();
    });
    expect(result).toBeUndefined();
    expect(calls).toEqual([...HELD, 'voidCharge', 'releaseSlot', 'releaseStock', 'status:cancelled:operator_cancelled']);
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
    expect(calls).toEqual(['recordOrderPlaced', 'reserveStock', 'reserveSlot', 'releaseStock', 'status:rejected:slot_full']);
  });
});
