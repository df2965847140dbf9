// Lot timers and production runs on the time-skipping server: discount before closing, discard at expiry, a run baking a lot that then times itself.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import type { endOfDayWorkflow, lotWorkflow, productionRunWorkflow, staleSweepWorkflow } from '../../workflows/lot.js';
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

/** Scripted stock activities that note what was called, with which lot, and how long after t0. */
function scripted(t0: number, produced: { discountInMs: number | null; expiresInMs: number } | null = null) {
  const calls: { name: string; lotId?: number; atMs: number }[] = [];
  const note = async (name: string, lotId?: number) =>
    calls.push({ name, lotId, atMs: (await env.currentTimeMs()) - t0 });
  const lotId = Math.floor(Math.random() * 1e9);
  const activities: Partial<Activities> = {
    async discountLot(id) {
      await note('discountLot', id);
      return { lotId: id, discountFrom: new Date().toISOString() };
    },
    async discardExpiredLot(id) {
      await note('discardExpiredLot', id);
      return { lotId: id, discardedUnits: 3 };
    },
    async produceLot() {
      await note('produceLot');
      if (!produced) return null;
      return {
        lotId,
        discountAt: produced.discountInMs === null ? null : new Date(t0 + produced.discountInMs).toISOString(),
        expiresAt: new Date(t0 + produced.expiresInMs).toISOString(),
      };
    },
    async discardAfterClosing() {
      await note('discardAfterClosing');
      return { lots: 2, units: 7 };
    },
    async discardExpiredStock() {
      await note('discardExpiredStock');
      return { lots: 1, units: 4 };
    },
  };
  return { calls, activities, lotId };
}

async function withWorker<T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `lot-${crypto.randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  return worker.runUntil(() => fn(taskQueue));
}

async function runLot(times: { discountInMs: number | null; expiresInMs: number }) {
  const t0 = await env.currentTimeMs();
  const { calls, activities } = scripted(t0);
  await withWorker(activities, (taskQueue) =>
    env.client.workflow.execute<typeof lotWorkflow>('lotWorkflow', {
      taskQueue,
      workflowId: `lot-${crypto.randomUUID()}`,
      args: [
        {
          lotId: 7,
          discountAt: times.discountInMs === null ? null : new Date(t0 + times.discountInMs).toISOString(),
          expiresAt: new Date(t0 + times.expiresInMs).toISOString(),
        },
      ],
    }),
  );
  return calls;
}

describe('lotWorkflow', () => {
  it('discounts the lot at its discount time (closing minus 30 minutes) and discards it at expiry', async () => {
    const calls = await runLot({ discountInMs: 5 * 60 * MINUTE, expiresInMs: 8 * 60 * MINUTE });
    expect(calls.map((c) => [c.name, c.lotId])).toEqual([
      ['discountLot', 7],
      ['discardExpiredLot', 7],
    ]);
    expect(calls[0]!.atMs).toBeGreaterThanOrEqual(5 * 60 * MINUTE);
    expect(calls[0]!.atMs).toBeLessThan(5 * 60 * MINUTE + MINUTE);
    expect(calls[1]!.atMs).toBeGreaterThanOrEqual(8 * 60 * MINUTE);
    expect(calls[1]!.atMs).toBeLessThan(8 * 60 * MINUTE + MINUTE);
  });

  it('never discounts a lot that expires before its discount would start', async () => {
    const calls = await runLot({ discountInMs: 3 * 60 * MINUTE, expiresInMs: 25 * MINUTE });
    expect(calls.map((c) => c.name)).toEqual(['discardExpiredLot']);
    expect(calls[0]!.atMs).toBeGreaterThanOrEqual(25 * MINUTE);
    expect(calls[0]!.atMs).toBeLessThan(26 * MINUTE);
  });

  it('discards a lot without a discount at expiry', async () => {
    const calls = await runLot({ discountInMs: null, expiresInMs: 40 * MINUTE });
    expect(calls.map((c) => c.name)).toEqual(['discardExpiredLot']);
    expect(calls[0]!.atMs).toBeGreaterThanOrEqual(40 * MINUTE);
  });

  it('discounts at once a lot received inside its discount window, then waits for expiry', async () => {
    const calls = await runLot({ discountInMs: -5 * MINUTE, expiresInMs: 20 * MINUTE });
    expect(calls.map((c) => c.name)).toEqual(['discountLot', 'discardExpiredLot']);
    expect(calls[0]!.atMs).toBeLessThan(MINUTE);
    expect(calls[1]!.atMs).toBeGreaterThanOrEqual(20 * MINUTE);
  });
});

describe('productionRunWorkflow', () => {
  it('bakes a lot and starts its timer workflow, which outlives the run', async () => {
    const t0 = await env.currentTimeMs();
    const { calls, activities, lotId } = scripted(t0, { discountInMs: 60 * MINUTE, expiresInMs: 90 * MINUTE });
    await withWorker(activities, async (taskQueue) => {
      const result = await env.client.workflow.execute<typeof productionRunWorkflow>('productionRunWorkflow', {
        taskQueue,
        workflowId: `production-${crypto.randomUUID()}`,
        args: [{ locationId: 'loc', productId: 'bun', quantity: 12 }],
      });
      expect(result).toBe(lotId);
      await env.client.workflow.getHandle(`lot-${lotId}`).result();
    });
    expect(calls.map((c) => [c.name, c.lotId])).toEqual([
      ['produceLot', undefined],
      ['discountLot', lotId],
      ['discardExpiredLot', lotId],
    ]);
    expect(calls[1]!.atMs).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(calls[2]!.atMs).toBeGreaterThanOrEqual(90 * MINUTE);
  });

  it('does nothing more when the plan’s product or location is gone', async () => {
    const t0 = await env.currentTimeMs();
    const { calls, activities } = scripted(t0, null);
    const result = await withWorker(activities, (taskQueue) =>
      env.client.workflow.execute<typeof productionRunWorkflow>('productionRunWorkflow', {
        taskQueue,
        workflowId: `production-${crypto.randomUUID()}`,
        args: [{ locationId: 'gone', productId: 'gone', quantity: 1 }],
      }),
    );
    expect(result).toBeNull();
    expect(calls.map((c) => c.name)).toEqual(['produceLot']);
  });
});

describe('the sweeps', () => {
  it('the stale sweep discards expired stock; the end-of-day run also what is left after closing', async () => {
    const t0 = await env.currentTimeMs();
    const { calls, activities } = scripted(t0);
    await withWorker(activities, async (taskQueue) => {
      expect(
        await env.client.workflow.execute<typeof staleSweepWorkflow>('staleSweepWorkflow', {
          taskQueue,
          workflowId: `sweep-${crypto.randomUUID()}`,
        }),
      ).toEqual({ lots: 1, units: 4 });
      expect(
        await env.client.workflow.execute<typeof endOfDayWorkflow>('endOfDayWorkflow', {
          taskQueue,
          workflowId: `eod-${crypto.randomUUID()}`,
        }),
      ).toEqual({ lots: 3, units: 11 });
    });
    expect(calls.map((c) => c.name)).toEqual(['discardExpiredStock', 'discardAfterClosing', 'discardExpiredStock']);
  });
});
