// The order workflow: one durable process per order, from placement through payment, prep and delivery to a terminal status.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  isCancellation,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { OrderStatusChange } from '../activities/orders.js';
import { isCancellable, orderNumber } from '../src/domain/words.js';
import { deliveryWorkflow } from './delivery.js';
import { oneLine, utcTime } from './details.js';
import {
  REFUSAL,
  TERMINAL_STATUSES,
  anyCancelUpdate,
  bankChargeResultSignal,
  collectUpdate,
  deliveryProgressSignal,
  orderStateQuery,
  placementUpdate,
  prepUpdate,
  slotClosedSignal,
  searchAttributes,
  type BankChargeResult,
  type CancelRequest,
  type CollectionTimes,
  type DeliveryWrittenStatus,
  type OrderInput,
  type OrderReason,
  type OrderState,
  type OrderStatus,
  type OrderWrittenStatus,
} from './messages.js';
import { db } from './database.js';

// The bank only records the request and answers later by webhook, so the call is short: a local activity too,
// which keeps the history of an order small (a marker instead of scheduled/started/completed and a task).
const bank = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['BankRequestRefused'],
  },
});

/** Compensation retries a few times quickly, then reports itself failing and keeps going. */
const undo = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5 },
});

/** A collection order placed without its location's settings waits an hour, and shows on the board for half of it. */
const DEFAULT_COLLECTION: CollectionTimes = { windowMs: 60 * 60_000, boardHoldMs: 30 * 60_000 };

export async function orderWorkflow(input: OrderInput): Promise<OrderState> {
  const state: OrderState = {
    orderId: input.orderId,
    status: 'placed',
    reason: null,
    totalCents: null,
    chargeId: null,
    compensationError: null,
    delivery: null,
  };
  // Status writes in flight: whenever none is, the read model shows state.status, so an update may answer.
  let writing = 0;
  const persisted = () => writing === 0;
  let charge: BankChargeResult | undefined;
  let cancelRequested = false;
  let cancelReason: OrderReason = 'customer_cancelled';
  let collectRequested = false;
  const collection = input.fulfilment === 'collection';
  let slotClosed = false;
  const compensations: { name: string; run: () => Promise<void> }[] = [];
  // For the Web UI's current details.
  let awaitingPaymentSince = 0;
  let collectBy = 0;

  /** What the Web UI shows as the order's current details: where it is now, in one line. */
  function showStatus(): void {
    setCurrentDetails(statusDetails());
  }
  function statusDetails(): string {
    const driver = state.delivery?.driverId;
    switch (state.status) {
      case 'placed':
        return 'placed: reserving stock and the slot';
      case 'awaiting_payment':
        return `waiting for the bank since ${utcTime(awaitingPaymentSince)} (charge ${state.chargeId})`;
      case 'confirmed':
        return state.chargeId === null
          ? 'paid at the counter; waiting for the kitchen to start preparing'
          : `paid (charge ${state.chargeId}); waiting for the kitchen to start preparing`;
      case 'prepping':
        return 'preparing';
      case 'prepped':
        if (collection) return 'prepped';
        return driver ? `prepped; driver ${driver} assigned, waiting for pickup` : 'prepped; waiting for a driver';
      case 'ready_for_collection':
        return `ready for collection until ${utcTime(collectBy)}`;
      case 'out_for_delivery':
        return `out for delivery with driver ${driver}`;
      case 'completed':
        return collection ? 'completed: collected' : `completed: delivered by driver ${driver}`;
      case 'uncollected':
        return `uncollected: nobody came by ${utcTime(collectBy)}`;
      case 'rejected':
      case 'payment_failed':
      case 'cancelled':
        return `${state.status}: ${state.reason}`;
    }
  }

  setHandler(orderStateQuery, () => state);
  setHandler(bankChargeResultSignal, (result) => {
    // The bank may deliver its answer more than once; the first answer for our charge decides.
    if (charge === undefined && (state.chargeId === null || result.chargeId === state.chargeId)) charge = result;
  });
  setHandler(placementUpdate, async () => {
    await condition(() => state.status !== 'placed' && persisted());
    return state;
  });
  setHandler(
    anyCancelUpdate,
    async (request?: CancelRequest) => {
      cancelRequested = true;
      if (request?.by === 'staff') cancelReason = 'staff_cancelled';
      // A placement that fails on its own first ends the order just the same.
      await condition(() => TERMINAL_STATUSES.includes(state.status) && persisted());
      return state;
    },
    {
      validator: (_request?: CancelRequest) => {
        if (!isCancellable(state.status) || cancelRequested) {
          throw refusal(`An order that is ${state.status} can no longer be cancelled`);
        }
      },
    },
  );
  setHandler(
    prepUpdate,
    async ({ status }) => {
      await moveTo(status);
      // A prepped collection order answers once it shows as ready for collection.
      if (status === 'prepped' && collection) await condition(() => state.status !== 'prepped' && persisted());
      return state;
    },
    {
      validator: ({ status }) => {
        const from: OrderStatus = status === 'prepping' ? 'confirmed' : 'prepping';
        if (state.status !== from || cancelRequested) {
          throw refusal(`Only a ${from} order can move to ${status}; this one is ${state.status}`);
        }
      },
    },
  );
  setHandler(
    collectUpdate,
    async () => {
      collectRequested = true;
      await condition(() => state.status === 'completed' && persisted());
      return state;
    },
    {
      validator: () => {
        if (!collection) throw refusal('Only a collection order can be collected; this one is for delivery');
        if (state.status !== 'ready_for_collection' || collectRequested) {
          throw refusal(`Only an order ready for collection can be collected; this one is ${state.status}`);
        }
      },
    },
  );
  setHandler(slotClosedSignal, () => {
    slotClosed = true;
  });
  setHandler(deliveryProgressSignal, (progress) => {
    state.delivery = progress;
    const driver = progress.driverId ? [{ key: searchAttributes.driverId, value: progress.driverId }] : [];
    if (progress.status === 'picked_up' && state.status === 'prepped') follow('out_for_delivery', driver);
    else if (driver.length > 0) upsertSearchAttributes(driver);
    showStatus();
  });

  /** Moves the order to a status it owns: the workflow's state and search attribute, then the read model. */
  async function moveTo(
    status: OrderWrittenStatus,
    extra: Omit<OrderStatusChange, 'orderId' | 'status'> = {},
  ): Promise<void> {
    state.status = status;
    state.reason = extra.reason ?? null;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }]);
    showStatus();
    writing++;
    try {
      await db.recordOrderStatus({ orderId: input.orderId, status, ...extra });
    } finally {
      writing--;
    }
  }

  /** Follows a status the delivery's step already wrote to the read model: only the workflow's state and search attributes. */
  function follow(status: DeliveryWrittenStatus, also: SearchAttributeUpdatePair[] = []): void {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }, ...also]);
    showStatus();
  }

  /** Undoes every completed step in reverse order; never cancelled, never gives up. */
  async function compensate(ending: OrderStatus, reason: OrderReason): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      for (const step of compensations.reverse()) {
        setCurrentDetails(`compensating before ${ending} (${reason}): ${step.name}`);
        for (let attempt = 1; ; attempt++) {
          try {
            await step.run();
            break;
          } catch (err) {
            if (state.compensationError === null)
              upsertSearchAttributes([{ key: searchAttributes.compensationFailing, value: true }]);
            state.compensationError = `${step.name}: ${err instanceof Error ? err.message : String(err)}`;
            setCurrentDetails(
              `compensating: ${step.name} failing since ${utcTime(Date.now())}, attempt ${attempt}: ${oneLine(err instanceof Error ? err.message : String(err))}`,
            );
            await sleep(Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 6)));
          }
        }
        if (state.compensationError !== null) {
          state.compensationError = null;
          upsertSearchAttributes([{ key: searchAttributes.compensationFailing, value: false }]);
        }
      }
      compensations.length = 0;
    });
  }

  async function fail(status: 'rejected' | 'payment_failed' | 'cancelled', reason: OrderReason): Promise<OrderState> {
    await compensate(status, reason);
    await moveTo(status, { reason });
    await condition(allHandlersFinished);
    return state;
  }

  /** Asks the bank for the charge and waits for its answer; returns the ended order when it was not paid. */
  async function pay(
    accountId: string,
    totalCents: number,
    lineAmounts: { productId: string; amountCents: number }[],
    cutoffAt: number,
  ): Promise<OrderState | undefined> {
    let chargeId: string;
    try {
      ({ chargeId } = await bank.requestCharge({ orderId: input.orderId, accountId, amountCents: totalCents }));
    } catch (err) {
      // A refused request cannot succeed on retry: the order ends unpaid and gives back what it holds.
      if (isBankRefusal(err)) return fail('payment_failed', 'charge_refused');
      throw err;
    }
    state.chargeId = chargeId;
    compensations.push({ name: 'voidCharge', run: () => undo.voidCharge({ chargeId }) });
    awaitingPaymentSince = Date.now();
    await moveTo('awaiting_payment', { totalCents, chargeId, lineAmounts });

    // The bank has until the payment timeout, and never past the slot's cutoff.
    const untilCutoffMs = cutoffAt - Date.now();
    const settled = await condition(
      () => charge !== undefined || cancelRequested || slotClosed,
      Math.max(0, Math.min(input.paymentTimeoutMs, untilCutoffMs)),
    );
    if (cancelRequested) return fail('cancelled', cancelReason);
    if (!charge)
      return fail(
        'payment_failed',
        slotClosed || (!settled && untilCutoffMs < input.paymentTimeoutMs) ? 'slot_closed' : 'payment_timeout',
      );
    if (charge.outcome !== 'approved') return fail('payment_failed', charge.outcome);
    await moveTo('confirmed');
    return undefined;
  }

  /**
   * A collection order waits at the counter: collected, or uncollected once the location's window has passed (from
   * the later of ready and the slot's start). Either
   * way its units are sold and the slot freed; an uncollected order keeps its charge. Its number leaves the board
   * after the board hold even while it still waits.
   */
  async function awaitCollection(): Promise<OrderState> {
    const { windowMs, boardHoldMs } = input.collection ?? DEFAULT_COLLECTION;
    const readyAt = Date.now();
    // The window counts from the later of ready and the slot's start: an order ready early waits into its slot.
    const slotStart = input.slotStartsAt === null ? readyAt : Date.parse(input.slotStartsAt);
    collectBy = Math.max(readyAt, slotStart) + windowMs;
    await moveTo('ready_for_collection', { collectBy: new Date(collectBy).toISOString() });
    // (A hold no shorter than the window keeps the number up until the order ends, as it always has.)
    if (boardHoldMs < windowMs && !(await condition(() => collectRequested, boardHoldMs))) {
      await db.recordLeftBoard({ orderId: input.orderId });
    }
    if (!collectRequested) await condition(() => collectRequested, Math.max(0, collectBy - Date.now()));
    const status = collectRequested ? 'completed' : 'uncollected';
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: status }]);
    showStatus();
    writing++;
    try {
      await db.recordCollectionEnded({ orderId: input.orderId, status });
    } finally {
      writing--;
    }
    await condition(allHandlersFinished);
    return state;
  }

  async function run(): Promise<OrderState> {
    showStatus();
    await db.recordOrderPlaced(input);

    const stock = await db.reserveStock({
      orderId: input.orderId,
      locationId: input.locationId,
      lines: input.lines.map(({ productId, quantity }) => ({ productId, quantity })),
      deliverBy: input.slotEndsAt,
    });
    if (stock.status === 'out_of_stock') return fail('rejected', 'out_of_stock');
    compensations.push({ name: 'releaseStock', run: () => undo.releaseStock(input.orderId) });
    const totalCents = stock.lines.reduce((sum, line) => sum + line.amountCents, 0);
    state.totalCents = totalCents;

    // A counter order without a collection window takes no slot capacity.
    let cutoffAt = Number.POSITIVE_INFINITY;
    if (input.slotId !== null) {
      const slot = await db.reserveSlot({ orderId: input.orderId, slotId: input.slotId });
      if (slot.status !== 'reserved') return fail('rejected', slot.status);
      compensations.push({ name: 'releaseSlot', run: () => undo.releaseSlot({ orderId: input.orderId }) });
      cutoffAt = Date.parse(slot.cutoffAt);
    }
    const lineAmounts = stock.lines.map(({ productId, amountCents }) => ({ productId, amountCents }));

    if (input.bankAccountId === null) {
      // Paid at the counter: the bank is not asked.
      await moveTo('confirmed', { totalCents, lineAmounts });
    } else {
      const unpaid = await pay(input.bankAccountId, totalCents, lineAmounts, cutoffAt);
      if (unpaid) return unpaid;
    }

    await condition(() => (state.status === 'prepped' && persisted()) || cancelRequested);
    if (cancelRequested) return fail('cancelled', cancelReason);
    if (collection) return awaitCollection();

    const delivery = await startChild(deliveryWorkflow, {
      workflowId: `delivery-${input.orderId}`,
      args: [{ orderId: input.orderId, locationId: input.locationId, orderWorkflowId: workflowInfo().workflowId }],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `Delivery of order ${orderNumber(input.orderId)} · ${itemCount(input)}`,
    });
    state.delivery = { status: 'pending', driverId: null };
    showStatus();
    // The delivery's pickup step moved the order out for delivery (and signalled it); its complete step completed it.
    const delivered = await delivery.result();
    state.delivery = { status: delivered.status, driverId: delivered.driverId };
    follow('completed');
    await condition(allHandlersFinished);
    return state;
  }

  try {
    return await run();
  } catch (err) {
    // An operator cancelled the workflow (Web UI or CLI): undo what the order holds, as a customer's cancel does,
    // then end as cancelled so the Web UI shows what was done.
    if (!isCancellation(err) || TERMINAL_STATUSES.includes(state.status)) throw err;
    await CancellationScope.nonCancellable(() => fail('cancelled', 'operator_cancelled'));
    throw err;
  }
}

/** `3 items`: units across the lines. */
function itemCount(input: OrderInput): string {
  const units = input.lines.reduce((sum, line) => sum + line.quantity, 0);
  return `${units} ${units === 1 ? 'item' : 'items'}`;
}

/** The bank refused the charge request itself; a local activity's failure arrives as it was thrown, not wrapped. */
function isBankRefusal(err: unknown): boolean {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.type === 'BankRequestRefused';
}

function refusal(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: REFUSAL.invalidTransition, nonRetryable: true });
}
