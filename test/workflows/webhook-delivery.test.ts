// An endpoint's delivery workflow on the time-skipping server: the 24-hour retry schedule, the disabling past it, and
// a receiver that comes back, with an in-memory stand-in for the delivery activity that follows the real schedule.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Activities } from '../../activities/index.js';
import type { DeliverWebhooksResult } from '../../activities/webhooks.js';
import { DEFAULT_RETRY_POLICY, nextAttemptAt } from '../../src/domain/webhooks.js';
import { webhookWakeSignal, webhookWorkflowId } from '../../workflows/messages.js';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';
import { workflowSpanSinks } from '../../src/telemetry/temporal.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

const SECOND = 1000;
const HOUR = 3_600_000;

interface FakeDelivery {
  id: number;
  status: 'pending' | 'delivered' | 'failed';
  failures: number;
  failingSince: number | null;
  nextAt: number;
}

/** One endpoint's deliveries in memory, sent to a receiver that is up when `receiverUp(now)` says so. */
function fakeEndpoint(receiverUp: (now: number) => boolean) {
  const state = { enabled: true, deliveries: [] as FakeDelivery[], attempts: [] as number[], rounds: 0 };
  const deliverWebhooks = async (input: { endpointId: string; now: number }): Promise<DeliverWebhooksResult> => {
    state.rounds++;
    const now = input.now;
    if (!state.enabled) return { state: 'disabled', nextDueAt: null, delivered: 0, failed: 0 };
    let delivered = 0;
    let failed = 0;
    for (const d of state.deliveries.filter((x) => x.status === 'pending' && x.nextAt <= now)) {
      state.attempts.push(now);
      if (receiverUp(now)) {
        d.status = 'delivered';
        delivered++;
        continue;
      }
      failed++;
      d.failures++;
      d.failingSince ??= now;
      // The middle of the jitter: every wait exactly as scheduled.
      const next = nextAttemptAt(d.failures, d.failingSince, now, DEFAULT_RETRY_POLICY, 0.5);
      if (next === null) {
        d.status = 'failed';
        state.enabled = false;
        return { state: 'disabled', nextDueAt: null, delivered, failed };
      }
      d.nextAt = next;
    }
    const waiting = state.deliveries.filter((x) => x.status === 'pending').map((x) => x.nextAt);
    return { state: 'active', nextDueAt: waiting.length ? Math.min(...waiting) : null, delivered, failed };
  };
  const add = (now: number) =>
    state.deliveries.push({
      id: state.deliveries.length + 1,
      status: 'pending',
      failures: 0,
      failingSince: null,
      nextAt: now,
    });
  return { state, add, activities: { deliverWebhooks } satisfies Partial<Activities> };
}

async function withWorker<T>(activities: Partial<Activities>, work: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `wf-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  return worker.runUntil(() => work(taskQueue));
}

describe('the webhook delivery workflow', () => {
  it('retries a failing delivery at 5 s, 1 min, 10 min, 1 h, 3 h, 6 h and 12 h, last at 24 h, then ends disabled', async () => {
    const endpoint = fakeEndpoint(() => false);
    const start = await env.currentTimeMs();
    endpoint.add(start);
    await withWorker(endpoint.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
        taskQueue,
        workflowId: webhookWorkflowId(crypto.randomUUID()),
        args: [{ endpointId: 'endpoint-1', idleRecheckMs: 15 * 60_000 }],
      });
      await handle.result();
    });
    const waits = [0, 5 * SECOND, 60 * SECOND, 600 * SECOND, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR];
    const expected = waits.map((_, i) => start + waits.slice(0, i + 1).reduce((a, b) => a + b, 0));
    expected.push(start + 24 * HOUR);
    expect(endpoint.state.attempts).toHaveLength(expected.length);
    endpoint.state.attempts.forEach((at, i) =>
      expect(Math.abs(at - expected[i]!), `attempt ${i + 1}`).toBeLessThan(2 * SECOND),
    );
    expect(endpoint.state.enabled).toBe(false);
    expect(endpoint.state.deliveries[0]!.status).toBe('failed');
    // One round per attempt, and no busy loop in between.
    expect(endpoint.state.rounds).toBe(expected.length);
  });

  it('delivers once the receiver is back, sleeps while idle, and wakes for new deliveries', async () => {
    const start = await env.currentTimeMs();
    const endpoint = fakeEndpoint((now) => now >= start + 2 * HOUR);
    endpoint.add(start);
    await withWorker(endpoint.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
        taskQueue,
        workflowId: webhookWorkflowId(crypto.randomUUID()),
        args: [{ endpointId: 'endpoint-2', idleRecheckMs: 15 * 60_000 }],
      });
      // Skip to just past the 3-hour retry (5 s + 1 min + 10 min + 1 h + 3 h after the first failure).
      await env.sleep(4 * HOUR + 12 * 60_000);
      expect(endpoint.state.deliveries[0]!.status).toBe('delivered');
      expect(endpoint.state.attempts).toHaveLength(6);
      const roundsWhenIdle = endpoint.state.rounds;
      await env.sleep(HOUR);
      // Idle: it only looks every 15 minutes.
      expect(endpoint.state.rounds - roundsWhenIdle).toBeLessThanOrEqual(4);
      endpoint.add(await env.currentTimeMs());
      await handle.signal(webhookWakeSignal);
      await env.sleep(SECOND);
      expect(endpoint.state.deliveries[1]!.status).toBe('delivered');
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test over');
    });
  });
});
