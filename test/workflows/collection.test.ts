// Collection and counter orders on the time-skipping server: the collection window, the board hold and collect, with
// recording activities in place of the database and bank.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../activities/index.js';
import {
  REFUSAL,
  bankChargeResultSignal,
  collectUpdate,
  prepUpdate,
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

const MINUTE = 60_000;

/** Activities that record what the workflow asked for, in order, and the test server's clock at each. */
function recordingActivities() {
  const calls: string[] = [];
  const at: Record<string, number> = {};
  /** The collectBy each status change carried. */
  const collectBy: Record<string, string | undefined> = {};
  const mark = async (call: string) => {
    calls.push(call);
    at[call] = await env.currentTimeMs();
  };
  const activities: Partial<Activities> = {
    recordOrderPlaced: () => mark('recordOrderPlaced'),
    recordOrderStatus: (change) => {
      collectBy[change.status] = change.collectBy;
      return mark(`status:${change.status}${change.reason ? `:${change.reason}` : ''}`);
    },
    async reserveStock(input) {
      await mark('reserveStock');
      return { status: 'reserved', lines: input.lines.map((l) => ({ ...l, amountCents: l.quantity * 300 })) };
    },
    releaseStock: () => mark('releaseStock'),
    async reserveSlot() {
      await mark('reserveSlot');
      const now = await env.currentTimeMs();
      return {
        status: 'reserved',
        startsAt: new Date(now + 86_400_000).toISOString(),
        cutoffAt: new Date(now + 86_400_000).toISOString(),
      };
    },
    releaseSlot: () => mark('releaseSlot'),
    async requestCharge() {
      await mark('requestCharge');
      return { chargeId: 'charge-1' };
    },
    voidCharge: () => mark('voidCharge'),
    recordCollectionEnded: (input) => mark(`ended:${input.status}`),
    recordLeftBoard: () => mark('leftBoard'),
  };
  return { calls, at, collectBy, activities };
}

function collectionInput(overrides: Partial<OrderInput> = {}): OrderInput {
  return {
    orderId: crypto.randomUUID(),
    customerId: crypto.randomUUID(),
    locationId: crypto.randomUUID(),
    slotId: crypto.randomUUID(),
    slotStartsAt: new Date(Date.now() + 86_400_000).toISOString(),
    slotEndsAt: new Date(Date.now() + 90_000_000).toISOString(),
    bankAccountId: 'acct-1',
    lines: [{ productId: crypto.randomUUID(), quantity: 2, unitPriceCents: 300 }],
    address: null,
    paymentTimeoutMs: 10 * MINUTE,
    fulfilment: 'collection',
    collection: { windowMs: 60 * MINUTE, boardHoldMs: 30 * MINUTE },
    ...overrides,
  };
}

/** A counter order: no customer account, no bank, no slot. */
const counterInput = () =>
  collectionInput({ customerId: null, bankAccountId: null, slotId: null, slotStartsAt: null, label: 'Sam' });

async function run(
  input: OrderInput,
  whileRunning: (handle: WorkflowHandle<typeof orderWorkflow>) => Promise<void>,
): Promise<{
  result: OrderState;
  calls: string[];
  at: Record<string, number>;
  collectBy: Record<string, string | undefined>;
  attributes: Record<string, unknown>;
}> {
  const { calls, at, collectBy, activities } = recordingActivities();
  const taskQueue = `wf-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
      taskQueue,
      workflowId: `order-${input.orderId}`,
      args: [input],
    });
    await whileRunning(handle);
    const result = await handle.result();
    const { searchAttributes } = await handle.describe();
    return { result, calls, at, collectBy, attributes: searchAttributes };
  });
}

async function reach(handle: WorkflowHandle, status: OrderState['status']): Promise<void> {
  let state = await handle.query<OrderState>('orderState');
  for (let i = 0; i < 100 && state.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = await handle.query<OrderState>('orderState');
  }
  expect(state.status).toBe(status);
}

/** Pays (unless paid at the counter) and preps the order; answers what the prepped step returned. */
async function prep(handle: WorkflowHandle<typeof orderWorkflow>, paid: boolean): Promise<OrderState> {
  if (paid) {
    await reach(handle, 'awaiting_payment');
    await handle.signal(bankChargeResultSignal, { chargeId: 'charge-1', outcome: 'approved' });
  }
  await reach(handle, 'confirmed');
  await handle.executeUpdate(prepUpdate, { args: [{ status: 'prepping' }] });
  return handle.executeUpdate(prepUpdate, { args: [{ status: 'prepped' }] });
}

const refused = (message: string) => ({ cause: { type: REFUSAL.invalidTransition, message } });

const PAID = ['recordOrderPlaced', 'reserveStock', 'reserveSlot', 'requestCharge', 'status:awaiting_payment'];
const PREPPED = ['status:confirmed', 'status:prepping', 'status:prepped', 'status:ready_for_collection'];

describe('a collection order', () => {
  it('leaves the board after the board hold and ends uncollected after the window, keeping its charge', async () => {
    let prepped: OrderState | undefined;
    // Its slot began an hour ago: the window counts from ready.
    const slotStartsAt = new Date((await env.currentTimeMs()) - 60 * MINUTE).toISOString();
    const { result, calls, at, collectBy, attributes } = await run(
      collectionInput({ slotStartsAt }),
      async (handle) => {
        prepped = await prep(handle, true);
      },
    );
    expect(prepped?.status).toBe('ready_for_collection');
    expect(result).toMatchObject({ status: 'uncollected', reason: null, chargeId: 'charge-1', delivery: null });
    expect(calls).toEqual([...PAID, ...PREPPED, 'leftBoard', 'ended:uncollected']);
    // The workflow counts from its own clock when the ready status was written, a few milliseconds before the
    // recording activity read the test server's clock: a second's slack, far below the minutes measured.
    const readyAt = at['status:ready_for_collection']! - 1_000;
    expect(at.leftBoard! - readyAt).toBeGreaterThanOrEqual(30 * MINUTE);
    expect(at.leftBoard! - readyAt).toBeLessThan(31 * MINUTE);
    expect(at['ended:uncollected']! - readyAt).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(at['ended:uncollected']! - readyAt).toBeLessThan(61 * MINUTE);
    expect(Date.parse(collectBy.ready_for_collection!) - readyAt).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(Date.parse(collectBy.ready_for_collection!) - readyAt).toBeLessThan(61 * MINUTE);
    expect(attributes.OrderStatus).toEqual(['uncollected']);
  });

  it('ready before its slot, waits for a window from the slot’s start, and says until when', async () => {
    const slotStart = (await env.currentTimeMs()) + 3 * 60 * MINUTE;
    const input = collectionInput({ slotStartsAt: new Date(slotStart).toISOString() });
    const { result, at, collectBy } = await run(input, async (handle) => {
      await prep(handle, true);
    });
    expect(result.status).toBe('uncollected');
    expect(collectBy.ready_for_collection).toBe(new Date(slotStart + 60 * MINUTE).toISOString());
    // The number still leaves the board half an hour after ready; the order waits on into its slot.
    const readyAt = at['status:ready_for_collection']! - 1_000;
    expect(at.leftBoard! - readyAt).toBeLessThan(31 * MINUTE);
    expect(at['ended:uncollected']!).toBeGreaterThanOrEqual(slotStart + 60 * MINUTE);
    expect(at['ended:uncollected']!).toBeLessThan(slotStart + 61 * MINUTE);
  });

  it('refuses collect before it is ready, then completes on collect within the board hold', async () => {
    const { result, calls, attributes } = await run(collectionInput(), async (handle) => {
      await reach(handle, 'awaiting_payment');
      await expect(handle.executeUpdate(collectUpdate)).rejects.toMatchObject(
        refused('Only an order ready for collection can be collected; this one is awaiting_payment'),
      );
      await prep(handle, true);
      expect((await handle.executeUpdate(collectUpdate)).status).toBe('completed');
    });
    expect(result.status).toBe('completed');
    expect(calls).toEqual([...PAID, ...PREPPED, 'ended:completed']);
    expect(attributes.OrderStatus).toEqual(['completed']);
  });
});

describe('a counter order', () => {
  it('is confirmed without the bank or a slot and goes through prep to collect', async () => {
    const { result, calls, attributes } = await run(counterInput(), async (handle) => {
      await prep(handle, false);
      await handle.executeUpdate(collectUpdate);
    });
    expect(result).toMatchObject({ status: 'completed', chargeId: null, totalCents: 600 });
    expect(calls).toEqual(['recordOrderPlaced', 'reserveStock', ...PREPPED, 'ended:completed']);
    expect(attributes.OrderStatus).toEqual(['completed']);
    expect(attributes.CustomerId).toBeUndefined();
  });
});

describe('a delivery order', () => {
  it('refuses collect', async () => {
    const input = collectionInput({ fulfilment: 'delivery', address: { lat: 51.5, lng: -0.1, line1: 'x' } });
    delete input.collection;
    const { activities } = recordingActivities();
    const taskQueue = `wf-${crypto.randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      sinks: workflowSpanSinks(),
      activities,
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
        taskQueue,
        workflowId: `order-${input.orderId}`,
        args: [input],
      });
      await reach(handle, 'awaiting_payment');
      await expect(handle.executeUpdate(collectUpdate)).rejects.toMatchObject(
        refused('Only a collection order can be collected; this one is for delivery'),
      );
      await handle.terminate();
    });
  });
});
