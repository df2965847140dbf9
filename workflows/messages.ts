// Messages of the order workflow, defined once for the workflow and every client that talks to it.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type OrderStatus =
  | 'placed'
  | 'awaiting_payment'
  | 'confirmed'
  | 'prepping'
  | 'prepped'
  | 'out_for_delivery'
  | 'completed'
  | 'rejected'
  | 'payment_failed'
  | 'cancelled';

export type OrderReason =
  | 'out_of_stock'
  | 'slot_full'
  | 'slot_closed'
  | 'insufficient_funds'
  | 'declined'
  | 'payment_timeout'
  | 'customer_cancelled';

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['completed', 'rejected', 'payment_failed', 'cancelled'];

export interface OrderLineInput {
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

export interface OrderInput {
  orderId: string;
  customerId: string;
  locationId: string;
  slotId: string | null;
  lines: OrderLineInput[];
  address: { lat: number; lng: number; line1: string };
  /** How long the order waits for the bank's answer before it gives up. */
  paymentTimeoutMs: number;
}

export interface OrderState {
  orderId: string;
  status: OrderStatus;
  reason: OrderReason | null;
}

export interface BankChargeResult {
  chargeId: string;
  outcome: 'approved' | 'insufficient_funds' | 'declined';
}

/** The bank's answer about the order's charge, delivered by the webhook. */
export const bankChargeResultSignal = defineSignal<[BankChargeResult]>('bankChargeResult');

/** Returns once placement is decided: held (awaiting payment) or refused. Used with update-with-start. */
export const placementUpdate = defineUpdate<OrderState>('placement');

export const orderStateQuery = defineQuery<OrderState>('orderState');

/** Search attributes operators filter on in the Web UI; the dev server and compose setup register the same names. */
export const searchAttributes = {
  orderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  locationId: defineSearchAttributeKey('LocationId', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  slotStart: defineSearchAttributeKey('SlotStart', SearchAttributeType.DATETIME),
  driverId: defineSearchAttributeKey('DriverId', SearchAttributeType.KEYWORD),
};
