// The delivery workflow, a child of its order: the owner assigns a driver, who picks the order up and completes it.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { utcTime } from './details.js';
import {
  REFUSAL,
  assignUpdate,
  completeUpdate,
  deliveryStateQuery,
  pickupUpdate,
  searchAttributes,
  type DeliveryInput,
  type DeliveryState,
  type DeliveryStatus,
} from './messages.js';
import { db } from './database.js';

export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryState> {
  const state: DeliveryState = { orderId: input.orderId, status: 'pending', driverId: null };
  const step = (driverId: string) => ({ orderId: input.orderId, locationId: input.locationId, driverId });

  /** The Web UI's current details: the delivery's step, its driver and since when. */
  function show(): void {
    const since = utcTime(Date.now());
    switch (state.status) {
      case 'pending':
        return setCurrentDetails('waiting for the owner to assign a driver');
      case 'assigned':
        return setCurrentDetails(`assigned to driver ${state.driverId} at ${since}, waiting for pickup`);
      case 'picked_up':
        return setCurrentDetails(`out for delivery with driver ${state.driverId} since ${since}`);
      case 'delivered':
        return setCurrentDetails(`delivered by driver ${state.driverId} at ${since}`);
    }
  }

  function requireStatus(expected: DeliveryStatus, action: string): void {
    if (state.status !== expected) {
      throw ApplicationFailure.create({
        type: REFUSAL.invalidTransition,
        message: `Cannot ${action}: the delivery is ${state.status}, not ${expected}`,
        nonRetryable: true,
      });
    }
  }

  /** Someone else's delivery is refused as such, whatever step it is at; an unassigned one is a matter of order. */
  function requireDriver(driverId: string): void {
    if (state.driverId !== null && state.driverId !== driverId) {
      throw ApplicationFailure.create({
        type: REFUSAL.wrongDriver,
        message: 'This delivery is assigned to another driver',
        nonRetryable: true,
      });
    }
  }

  // Each step's write runs after the one before it has committed, in the order the steps were accepted: a complete
  // accepted while the pickup is still being written waits for it, so the read model never shows delivered first.
  let lastWrite: Promise<void> = Promise.resolve();
  function inTurn(write: () => Promise<void>): Promise<void> {
    const run = lastWrite.then(write);
    lastWrite = run.catch(() => undefined);
    return run;
  }

  // The pending write takes its turn before any handler is set: an update that came with the start is handled as its
  // handler is set, and its write must follow this one.
  show();
  const pendingWritten = inTurn(() =>
    db.recordDeliveryStatus({
      orderId: input.orderId,
      locationId: input.locationId,
      status: 'pending',
      driverId: null,
    }),
  );
  setHandler(deliveryStateQuery, () => state);
  setHandler(
    assignUpdate,
    async ({ driverId }) => {
      state.status = 'assigned';
      state.driverId = driverId;
      upsertSearchAttributes([{ key: searchAttributes.driverId, value: driverId }]);
      show();
      // The order learns its driver at pickup; one signal fewer keeps both histories short.
      await inTurn(() => db.recordDeliveryStatus({ ...step(driverId), status: 'assigned' }));
      return state;
    },
    { validator: (_assignment) => requireStatus('pending', 'assign a driver') },
  );
  setHandler(
    pickupUpdate,
    async ({ driverId }) => {
      state.status = 'picked_up';
      show();
      // Sells the units and moves the order to out_for_delivery in one transaction, then tells the order workflow.
      await inTurn(() => db.recordPickup({ ...step(driverId), orderWorkflowId: input.orderWorkflowId }));
      return state;
    },
    {
      validator: ({ driverId }) => {
        requireDriver(driverId);
        requireStatus('assigned', 'pick up');
      },
    },
  );
  setHandler(
    completeUpdate,
    async ({ driverId }) => {
      state.status = 'delivered';
      show();
      // Frees the slot's capacity and completes the order in one transaction; the order workflow follows from this result.
      await inTurn(() => db.recordDelivered(step(driverId)));
      return state;
    },
    {
      validator: ({ driverId }) => {
        requireDriver(driverId);
        requireStatus('picked_up', 'complete');
      },
    },
  );

  await pendingWritten;
  await condition(() => state.status === 'delivered');
  await condition(allHandlersFinished);
  return state;
}
