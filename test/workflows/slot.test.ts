// Slot timers on the time-skipping server: closing at the cutoff, following a moved cutoff, finishing after the end.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import { cutoffMovedSignal } from '../../workflows/messages.js';
import type { slotWorkflow } from '../../workflows/slot.js';
import { recordHistory } from '../support/histories.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';
import { workflowSpanSinks } from '../../src/telemetry/temporal.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

type Move = (workflowId: string, times: { cutoffAt: string }) => Promise<void>;

/** Runs a slot workflow; `whileRunning` acts once it started, `duringFirstRead` while its first read of the slot is in flight. */
async function runSlot(
  times: { cutoffInMs: number; endInMs: number },
  whileRunning: Move = async () => {},
  duringFirstRead?: Move,
  fixture?: string,
) {
  const t0 = await env.currentTimeMs();
  const current = {
    cutoffAt: new Date(t0 + times.cutoffInMs).toISOString(),
    endsAt: new Date(t0 + times.endInMs).toISOString(),
    status: 'open',
  };
  const calls: [string, number][] = [];
  let reads = 0;
  const activities: Partial<Activities> = {
    async slotTimes() {
      // What the database said when the read began; a move made meanwhile is not in it.
      const read = { ...current };
      if (reads++ === 0 && duringFirstRead)
        await duringFirstRead(Context.current().info.workflowExecution!.workflowId, current);
      return read;
    },
    async closeSlot() {
      calls.push(['closeSlot', (await env.currentTimeMs()) - t0]);
      return { awaitingPaymentOrderIds: ['no-such-order'] };
    },
    async finishSlot() {
      calls.push(['finishSlot', (await env.currentTimeMs()) - t0]);
    },
  };
  const taskQueue = `slot-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof slotWorkflow>('slotWorkflow', {
      taskQueue,
      workflowId: `slot-${crypto.randomUUID()}`,
      args: [{ slotId: 'slot-1' }],
    });
    await whileRunning(handle.workflowId, current);
    await handle.result();
    if (fixture) await recordHistory(env.client.workflow, fixture, handle.workflowId);
  });
  return calls;
}

describe('slotWorkflow', () => {
  it('closes the slot at its cutoff and finishes it after it ends', async () => {
    const calls = await runSlot({ cutoffInMs: 30 * 60_000, endInMs: 2 * 3_600_000 });
    expect(calls.map(([name]) => name)).toEqual(['closeSlot', 'finishSlot']);
    expect(calls[0]![1]).toBeGreaterThanOrEqual(30 * 60_000);
    expect(calls[0]![1]).toBeLessThan(31 * 60_000);
    expect(calls[1]![1]).toBeGreaterThanOrEqual(2 * 3_600_000);
  });

  it('follows a cutoff the owner moved earlier', async () => {
    const calls = await runSlot(
      { cutoffInMs: 60 * 60_000, endInMs: 3 * 3_600_000 },
      async (workflowId, times) => {
        times.cutoffAt = new Date((await env.currentTimeMs()) + 10 * 60_000).toISOString();
        await env.client.workflow.getHandle(workflowId).signal(cutoffMovedSignal);
      },
      undefined,
      'slot',
    );
    expect(calls[0]![0]).toBe('closeSlot');
    expect(calls[0]![1]).toBeGreaterThanOrEqual(10 * 60_000);
    expect(calls[0]![1]).toBeLessThan(11 * 60_000);
  });

  it('follows a cutoff moved while it was still reading the slot for the first time', async () => {
    const calls = await runSlot(
      { cutoffInMs: 60 * 60_000, endInMs: 3 * 3_600_000 },
      undefined,
      async (workflowId, times) => {
        times.cutoffAt = new Date((await env.currentTimeMs()) + 10 * 60_000).toISOString();
        await env.client.workflow.getHandle(workflowId).signal(cutoffMovedSignal);
      },
    );
    expect(calls[0]![0]).toBe('closeSlot');
    expect(calls[0]![1]).toBeGreaterThanOrEqual(10 * 60_000);
    expect(calls[0]![1]).toBeLessThan(11 * 60_000);
  });

  it('follows a cutoff the owner moved later', async () => {
    const calls = await runSlot({ cutoffInMs: 10 * 60_000, endInMs: 3 * 3_600_000 }, async (workflowId, times) => {
      times.cutoffAt = new Date((await env.currentTimeMs()) + 45 * 60_000).toISOString();
      await env.client.workflow.getHandle(workflowId).signal(cutoffMovedSignal);
    });
    expect(calls[0]![1]).toBeGreaterThanOrEqual(45 * 60_000);
    expect(calls[0]![1]).toBeLessThan(46 * 60_000);
  });
});
