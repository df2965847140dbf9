// The delivery workflow on the time-skipping server: assign, pickup and complete in turn, each step's write, and every refusal.
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Activities } from '../../activities/index.js';
import type { deliveryWorkflow } from '../../workflows/delivery.js';
import {
  REFUSAL,
  assignUpdate,
  completeUpdate,
  deliveryStateQuery,
  pickupUpdate,
  type DeliveryState,
} from '../../workflows/messages.js';
import { createTimeSkippingEnv } from '../support/time-skipping.js';
import { workflowSpanSinks } from '../../src/telemetry/temporal.js';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs one delivery with activities that note each write (`slow` may hold one back); `drive` acts on it while it runs. */
async function runDelivery(
  drive: (handle: WorkflowHandle<typeof deliveryWorkflow>, writes: readonly string[]) => Promise<void>,
  slow: { pickup?: Promise<void>; workflowTaskTimeout?: string } = {},
) {
  const writes: string[] = [];
  const activities: Partial<Activities> = {
    async recordDeliveryStatus(change) {
      writes.push(`delivery:${change.status}:${change.driverId}`);
    },
    async recordPickup(step) {
      await slow.pickup;
      writes.push(`pickup:${step.driverId}:${step.orderWorkflowId}`);
    },
    async recordDelivered(step) {
      writes.push(`delivered:${step.driverId}`);
    },
  };
  const orderId = crypto.randomUUID();
  const taskQueue = `delivery-${orderId}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    sinks: workflowSpanSinks(),
    activities,
  });
  const handle = await worker.runUntil(async () => {
    const started = await env.client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
      taskQueue,
      workflowId: `delivery-${orderId}`,
      args: [{ orderId, locationId: 'location-1', orderWorkflowId: `order-${orderId}` }],
      ...(slow.workflowTaskTimeout ? { workflowTaskTimeout: slow.workflowTaskTimeout } : {}),
    });
    await drive(started, writes);
    await started.result();
    return started;
  });
  return { orderId, writes, handle };
}

const refused = (type: string, message: string) => ({ cause: { type, message } });

describe('deliveryWorkflow', () => {
  it('goes assign → pickup → complete, answering each step with its state and writing each once', async () => {
    const seen: DeliveryState[] = [];
    const { orderId, writes, handle } = await runDelivery(async (delivery) => {
      seen.push(await delivery.query(deliveryStateQuery));
      seen.push(await delivery.executeUpdate(assignUpdate, { args: [{ driverId: 'driver-1' }] }));
      seen.push(await delivery.query(deliveryStateQuery));
      seen.push(await delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-1' }] }));
      seen.push(await delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-1' }] }));
    });
    expect(seen).toEqual([
      { orderId, status: 'pending', driverId: null },
      { orderId, status: 'assigned', driverId: 'driver-1' },
      { orderId, status: 'assigned', driverId: 'driver-1' },
      { orderId, status: 'picked_up', driverId: 'driver-1' },
      { orderId, status: 'delivered', driverId: 'driver-1' },
    ]);
    expect(writes).toEqual([
      'delivery:pending:null',
      'delivery:assigned:driver-1',
      `pickup:driver-1:order-${orderId}`,
      'delivered:driver-1',
    ]);
    expect(await handle.result()).toEqual({ orderId, status: 'delivered', driverId: 'driver-1' });
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.searchAttributes.DriverId).toEqual(['driver-1']);
  });

  it('refuses steps out of turn as InvalidTransition and another driver as WrongDriver, changing nothing', async () => {
    const { orderId, writes } = await runDelivery(async (delivery) => {
      await expect(delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-1' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Cannot pick up: the delivery is pending, not assigned'),
      );
      await expect(delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-1' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Cannot complete: the delivery is pending, not picked_up'),
      );
      await delivery.executeUpdate(assignUpdate, { args: [{ driverId: 'driver-1' }] });
      await expect(delivery.executeUpdate(assignUpdate, { args: [{ driverId: 'driver-2' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Cannot assign a driver: the delivery is assigned, not pending'),
      );
      await expect(delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-2' }] })).rejects.toMatchObject(
        refused(REFUSAL.wrongDriver, 'This delivery is assigned to another driver'),
      );
      await expect(delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-1' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Cannot complete: the delivery is assigned, not picked_up'),
      );
      await delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-1' }] });
      await expect(delivery.executeUpdate(pickupUpdate, { args: [{ driverId: 'driver-1' }] })).rejects.toMatchObject(
        refused(REFUSAL.invalidTransition, 'Cannot pick up: the delivery is picked_up, not assigned'),
      );
      await expect(delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-2' }] })).rejects.toMatchObject(
        refused(REFUSAL.wrongDriver, 'This delivery is assigned to another driver'),
      );
      expect(await delivery.query(deliveryStateQuery)).toEqual({
        orderId: delivery.workflowId.slice('delivery-'.length),
        status: 'picked_up',
        driverId: 'driver-1',
      });
      await delivery.executeUpdate(completeUpdate, { args: [{ driverId: 'driver-1' }] });
    });
    // The refused steps wrote nothing.
    expect(writes).toEqual([
      'delivery:pending:null',
      'delivery:assigned:driver-1',
      `pickup:driver-1:order-${orderId}`,
      'delivered:driver-1',
    ]);
  });

  it('writes a complete accepted while the pickup is still being written only after the pickup', async () => {
    let releasePickup!: () => void;
    const pickupHeld = new Promise<void>((resolve) => (releasePickup = resolve));
    const { orderId, writes } = await runDelivery(
      async (delivery, written) => {
        const accepted = {
          args: [{ driverId: 'driver-1' }] as [{ driverId: string }],
          waitForStage: WorkflowUpdateStage.ACCEPTED,
        } as const;
        await delivery.executeUpdate(assignUpdate, { args: [{ driverId: 'driver-1' }] });
        try {
          const pickup = await delivery.startUpdate(pickupUpdate, accepted);
          // The pickup is the delivery's status from the moment it is accepted, so a complete is accepted too.
          const complete = await delivery.startUpdate(completeUpdate, accepted);
          expect(written).toEqual(['delivery:pending:null', 'delivery:assigned:driver-1']);
          releasePickup();
          expect((await pickup.result()).status).toBe('delivered');
          expect((await complete.result()).status).toBe('delivered');
        } finally {
          // Never leave the held write hanging, or the worker cannot stop.
          releasePickup();
        }
      },
      // A step's write runs inside a workflow task, so another update is accepted only once the task heartbeats.
      { pickup: pickupHeld, workflowTaskTimeout: '2 seconds' },
    );
    expect(writes).toEqual([
      'delivery:pending:null',
      'delivery:assigned:driver-1',
      `pickup:driver-1:order-${orderId}`,
      'delivered:driver-1',
    ]);
  });
});
