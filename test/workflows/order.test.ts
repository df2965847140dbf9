// The order workflow's timers on the time-skipping server, with recorded activities in place of the database.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { bankChargeResultSignal, type OrderInput, type OrderReason, type OrderStatus } from '../../workflows/messages.js';
import type { orderWorkflow } from '../../workflows/order.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

function recordingActivities() {
  const statuses: [OrderStatus, OrderReason | null][] = [];
  const activities: Pick<Activities, 'recordOrderPlaced' | 'recordOrderStatus'> = {
    async recordOrderPlaced() {},
    async recordOrderStatus(_orderId, status, reason) {
      statuses.push([status, reason]);
    },
  };
  return { statuses, activities };
}

function input(paymentTimeoutMs: number): OrderInput {
  return {
    orderId: crypto.randomUUID(),
    customerId: crypto.randomUUID(),
    locationId: crypto.randomUUID(),
    slotId: null,
    lines: [{ productId: crypto.randomUUID(), quantity: 1, unitPriceCents: 300 }],
    address: { lat: 51.5, lng: -0.1, line1: 'x' },
    paymentTimeoutMs,
  };
}

async function run(paymentTimeoutMs: number, whileRunning: (workflowId: string) => Promise<void> = async () => {}) {
  const { statuses, activities } = recordingActivities();
  const taskQueue = `wf-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities,
  });
  const wfInput = input(paymentTimeoutMs);
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof orderWorkflow>('orderWorkflow', {
      taskQueue,
      workflowId: `order-${wfInput.orderId}`,
      args: [wfInput],
    });
    await whileRunning(handle.workflowId);
    return handle.result();
  });
  return { result, statuses };
}

describe('orderWorkflow payment wait', () => {
  it('gives up with payment_timeout when the bank never answers', async () => {
    const startedAt = await env.currentTimeMs();
    const { result, statuses } = await run(10 * 60_000);
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'payment_timeout' });
    expect(statuses).toEqual([['awaiting_payment', null], ['payment_failed', 'payment_timeout']]);
    // The timeout was skipped, not waited for: the server's clock moved by at least the payment timeout.
    expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it('confirms on approval and takes only the first of duplicate answers', async () => {
    const { result, statuses } = await run(10 * 60_000, async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      await handle.signal(bankChargeResultSignal, { chargeId: 'c1', outcome: 'approved' });
      await handle.signal(bankChargeResultSignal, { chargeId: 'c1', outcome: 'declined' });
    });
    expect(result.status).toBe('confirmed');
    expect(statuses.at(-1)).toEqual(['confirmed', null]);
  });

  it('records the bank refusal as the reason', async () => {
    const { result } = await run(10 * 60_000, async (workflowId) => {
      await env.client.workflow.getHandle(workflowId).signal(bankChargeResultSignal, { chargeId: 'c2', outcome: 'insufficient_funds' });
    });
    expect(result).toMatchObject({ status: 'payment_failed', reason: 'insufficient_funds' });
  });
});
