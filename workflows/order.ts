// The order workflow: one durable process per order, from placement to a terminal status.
import {
  allHandlersFinished,
  condition,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  bankChargeResultSignal,
  orderStateQuery,
  placementUpdate,
  searchAttributes,
  type BankChargeResult,
  type OrderInput,
  type OrderReason,
  type OrderState,
  type OrderStatus,
} from './messages.js';

// Short database writes run as local activities: they cost no extra history events.
const { recordOrderPlaced, recordOrderStatus } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

export async function orderWorkflow(input: OrderInput): Promise<OrderState> {
  const state: OrderState = { orderId: input.orderId, status: 'placed', reason: null };
  let charge: BankChargeResult | undefined;

  setHandler(orderStateQuery, () => state);
  setHandler(bankChargeResultSignal, (result) => {
    // The bank may deliver its answer more than once; the first one decides.
    charge ??= result;
  });
  setHandler(placementUpdate, async () => {
    await condition(() => state.status !== 'placed');
    return state;
  });

  async function moveTo(status: OrderStatus, reason: OrderReason | null = null): Promise<void> {
    state.status = status;
    state.reason = reason;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }]);
    await recordOrderStatus(input.orderId, status, reason);
  }

  await recordOrderPlaced(input);
  await moveTo('awaiting_payment');

  const answered = await condition(() => charge !== undefined, input.paymentTimeoutMs);
  if (!answered || !charge) {
    await moveTo('payment_failed', 'payment_timeout');
  } else if (charge.outcome === 'approved') {
    await moveTo('confirmed');
  } else {
    await moveTo('payment_failed', charge.outcome);
  }

  await condition(allHandlersFinished);
  return state;
}
