// The delivery workflow, a child of its order: the owner assigns a driver, who picks the order up and completes it.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  REFUSAL,
  assignUpdate,
  completeUpdate,
  deliveryProgressSignal,
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
  const order = getExternalWorkflowHandle(input.orderWorkflowId);

  async function moveTo(status: DeliveryStatus, driverId: string | null, tellOrder: boolean): Promise<DeliveryState> {
    state.status = status;
    state.driverId = driverId;
    await db.recordDeliveryStatus({ orderId: input.orderId, locationId: input.locationId, status, driverId });
    if (tellOrder) await order.signal(deliveryProgressSignal, { status, driverId });
    return state;
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
      throw ApplicationFailure.create({ type: REFUSAL.wrongDriver, message: 'This delivery is assigned to another driver', nonRetryable: true });
    }
  }

  setHandler(deliveryStateQuery, () => state);
  setHandler(
    assignUpdate,
    async ({ driverId }) => {
      upsertSearchAttributes([{ key: searchAttributes.driverId, value: driverId }]);
      // The order learns its driver at pickup; one signal fewer keeps both histories short.
      return moveTo('assigned', driverId, false);
    },
    { validator: (_assignment) => requireStatus('pending', 'assign a driver') },
  );
  /** One step for the delivery and its order; the order workflow only follows. */
  async function moveWithOrder(status: 'picked_up' | 'delivered', driverId: string): Promise<DeliveryState> {
    state.status = status;
    state.driverId = driverId;
    const step = { orderId: input.orderId, locationId: input.locationId, driverId };
    if (status === 'picked_up') await db.recordPickup({ ...step, orderWorkflowId: input.orderWorkflowId });
    else await db.recordDelivered(step);
    return state;
  }

  setHandler(
    pickupUpdate,
    async ({ driverId }) => (input.movesOrder ? moveWithOrder('picked_up', driverId) : moveTo('picked_up', driverId, true)),
    {
      validator: ({ driverId }) => {
        requireDriver(driverId);
        requireStatus('assigned', 'pick up');
      },
    },
  );
  setHandler(
    completeUpdate,
    async ({ driverId }) => (input.movesOrder ? moveWithOrder('delivered', driverId) : moveTo('delivered', driverId, false)),
    {
      validator: ({ driverId }) => {
        requireDriver(driverId);
        requireStatus('picked_up', 'complete');
      },
    },
  );

  await db.recordDeliveryStatus({ orderId: input.orderId, locationId: input.locationId, status: 'pending', driverId: null });
  await condition(() => state.status === 'delivered');
  await condition(allHandlersFinished);
  return state;
}
