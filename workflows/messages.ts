// Messages of the order and delivery workflows, defined once for the workflows and every client that talks to them.
import { defineSearchAttributeKey } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

import {
  SEARCH_ATTRIBUTES,
  type DeliveryStatus,
  type Fulfilment,
  type OrderReason,
  type OrderStatus,
  type SearchAttributeName,
} from '../src/domain/words.js';

export { TERMINAL_STATUSES } from '../src/domain/words.js';
export type { DeliveryStatus, Fulfilment, OrderReason, OrderStatus };

/**
 * Who writes each order status to the read model; the other side only follows it in its own state and search
 * attributes.
 *
 * | status | written by |
 * |---|---|
 * | placed | the order workflow (`recordOrderPlaced`, its first step) |
 * | awaiting_payment, confirmed, prepping, prepped, ready_for_collection | the order workflow (`moveTo`) |
 * | rejected, payment_failed, cancelled | the order workflow (`moveTo`, after compensating) |
 * | completed (collection), uncollected | the order workflow (`recordCollectionEnded`: sells the units, frees the slot) |
 * | out_for_delivery | the delivery's pickup step (`recordPickup`: sells the units in the same transaction) |
 * | completed (delivery) | the delivery's complete step (`recordDelivered`: frees the slot in the same transaction) |
 *
 * The order workflow follows out_for_delivery from the delivery's progress signal and completed from the delivery's
 * result. The reconcile sweep writes cancelled (reason workflow_ended) only for orders whose workflow ended without
 * compensating.
 */
export type DeliveryWrittenStatus = Extract<OrderStatus, 'out_for_delivery' | 'completed'>;
/** The statuses the order workflow writes itself; see {@link DeliveryWrittenStatus} for the table of owners. */
export type OrderWrittenStatus = Exclude<OrderStatus, DeliveryWrittenStatus>;

export interface OrderLineInput {
  productId: string;
  quantity: number;
  /** The catalogue price when the order was placed; the reservation fixes the amount actually charged. */
  unitPriceCents: number;
}

export interface OrderInput {
  orderId: string;
  /** Null for a counter order, which has no customer account. */
  customerId: string | null;
  locationId: string;
  /** Null for a counter order without a collection window: it takes no slot capacity. */
  slotId: string | null;
  /** The slot's start and end (ISO UTC): stock must stay fresh until the end. */
  slotStartsAt: string | null;
  slotEndsAt: string;
  lines: OrderLineInput[];
  /** Where a delivery order goes; null for a collection order. */
  address: { lat: number; lng: number; line1: string } | null;
  /** The customer's account at the bank; null when the order was paid at the counter. */
  bankAccountId: string | null;
  /** How long the order waits for the bank's answer before it gives up. */
  paymentTimeoutMs: number;
  /** Absent on orders placed before collection existed: those are deliveries. */
  fulfilment?: Fulfilment;
  /** A collection order's timers, from its location's settings when it was placed. */
  collection?: CollectionTimes;
  /** A counter order's name for the customer at the counter. */
  label?: string | null;
}

export interface CollectionTimes {
  /** How long a ready order waits to be collected before it ends uncollected. */
  windowMs: number;
  /** How long a ready order's number stays on the public board. */
  boardHoldMs: number;
}

export interface OrderState {
  orderId: string;
  status: OrderStatus;
  reason: OrderReason | null;
  totalCents: number | null;
  chargeId: string | null;
  /** Set while a compensation step keeps failing, so operators see it. */
  compensationError: string | null;
  delivery: { status: DeliveryStatus; driverId: string | null } | null;
}

export interface BankChargeResult {
  chargeId: string;
  outcome: 'approved' | 'insufficient_funds' | 'declined';
}

export interface DeliveryInput {
  orderId: string;
  locationId: string;
  /** The order workflow the pickup step tells. */
  orderWorkflowId: string;
}

export interface DeliveryState {
  orderId: string;
  status: DeliveryStatus;
  driverId: string | null;
}

export interface DeliveryProgress {
  status: DeliveryStatus;
  driverId: string | null;
}

/** Error types the update validators throw; the API maps them to HTTP statuses. */
export const REFUSAL = {
  invalidTransition: 'InvalidTransition',
  wrongDriver: 'WrongDriver',
} as const;

/** The bank's answer about the order's charge, delivered by the webhook. */
export const bankChargeResultSignal = defineSignal<[BankChargeResult]>('bankChargeResult');

/** Returns once placement is decided: held (awaiting payment) or refused. Used with update-with-start. */
export const placementUpdate = defineUpdate<OrderState>('placement');

/** The customer cancels; allowed until prepping starts. Returns once compensation is done. */
export const cancelUpdate = defineUpdate<OrderState>('cancel');

/** Who cancels, when it is not the customer: the staff of the order's location. */
export interface CancelRequest {
  by: 'staff';
}

/** The same cancel, sent by the staff of the order's location: the order ends with reason staff_cancelled. */
export const staffCancelUpdate = defineUpdate<OrderState, [CancelRequest]>('cancel');

/**
 * The cancel update as the order workflow receives it: without an argument from the customer (and from operators in
 * the Web UI or CLI), with one from staff.
 */
export const anyCancelUpdate = defineUpdate<OrderState, [CancelRequest?]>('cancel');

/** The shop owner hands a collection order that is ready to its customer. */
export const collectUpdate = defineUpdate<OrderState>('collect');

/** The shop owner moves the order through prep. */
export const prepUpdate = defineUpdate<OrderState, [{ status: 'prepping' | 'prepped' }]>('prep');

export const orderStateQuery = defineQuery<OrderState>('orderState');

/** The slot's workflow tells an order still waiting for payment that ordering for its slot has closed. */
export const slotClosedSignal = defineSignal('slotClosed');

/** The owner moved the slot's cutoff; the slot's workflow re-reads it and moves its timer. */
export const cutoffMovedSignal = defineSignal('cutoffMoved');

/** The delivery workflow tells its order about assignment and pickup. */
export const deliveryProgressSignal = defineSignal<[DeliveryProgress]>('deliveryProgress');

export const assignUpdate = defineUpdate<DeliveryState, [{ driverId: string }]>('assign');
export const pickupUpdate = defineUpdate<DeliveryState, [{ driverId: string }]>('pickup');
export const completeUpdate = defineUpdate<DeliveryState, [{ driverId: string }]>('complete');
export const deliveryStateQuery = defineQuery<DeliveryState>('deliveryState');

type SearchAttributeKeys = {
  [N in SearchAttributeName as Uncapitalize<N>]: SearchAttributeKey<Uppercase<(typeof SEARCH_ATTRIBUTES)[N]>>;
};

/** Keys of the search attributes operators filter on in the Web UI, by the vocabulary's names and types. */
export const searchAttributes = Object.fromEntries(
  (Object.keys(SEARCH_ATTRIBUTES) as SearchAttributeName[]).map((name) => [
    name.charAt(0).toLowerCase() + name.slice(1),
    defineSearchAttributeKey(
      name,
      SEARCH_ATTRIBUTES[name].toUpperCase() as Uppercase<(typeof SEARCH_ATTRIBUTES)[typeof name]>,
    ),
  ]),
) as SearchAttributeKeys;

/** The delivery workflow of one webhook endpoint, id `webhooks-<endpointId>`. */
export interface WebhookDeliveryInput {
  endpointId: string;
  /** How long to sleep with nothing due before looking again, in case a wake-up signal was lost. */
  idleRecheckMs: number;
}

export const webhookWorkflowId = (endpointId: string) => `webhooks-${endpointId}`;

/** New deliveries are waiting (or one was retried, or the endpoint enabled): look now instead of at the next timer. */
export const webhookWakeSignal = defineSignal('webhookWake');
