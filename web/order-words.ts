// How the customer's pages name an order's statuses and reasons, for every status and reason the vocabulary defines.
import type { DeliveryStatus, Fulfilment, OrderReason, OrderStatus } from '../src/domain/vocabulary.js';

export const ORDER_STATUS: Record<OrderStatus, string> = {
  placed: 'Order received',
  awaiting_payment: 'Waiting for payment',
  confirmed: 'Paid and confirmed',
  prepping: 'Being prepared',
  prepped: 'Ready, waiting for a driver',
  ready_for_collection: 'Ready for collection',
  out_for_delivery: 'On its way',
  completed: 'Delivered',
  uncollected: 'Not collected — not refunded',
  rejected: 'Not accepted',
  payment_failed: 'Payment failed',
  cancelled: 'Cancelled',
};

// Only what the order's own statuses do not already say: waiting for a driver is `prepped`, picked up is
// `out_for_delivery`, handed over is `completed`.
/** Where a collection order's words differ from a delivery order's: it is prepared for the counter, then collected. */
const COLLECTION_STATUS: Partial<Record<OrderStatus, string>> = {
  prepped: 'Prepared',
  completed: 'Collected',
};

/** How the pages name a status of an order delivered or collected. */
export const statusWords = (status: OrderStatus, fulfilment: Fulfilment = 'delivery'): string =>
  (fulfilment === 'collection' ? COLLECTION_STATUS[status] : undefined) ?? ORDER_STATUS[status];

export const DELIVERY_STATUS: Partial<Record<DeliveryStatus, string>> = {
  assigned: 'A driver is assigned',
};

export const REASONS: Record<OrderReason, string> = {
  out_of_stock: 'some items ran out',
  slot_full: 'the slot is full',
  slot_closed: 'the slot closed',
  insufficient_funds: 'insufficient funds',
  declined: 'the bank declined',
  charge_refused: 'the bank refused the payment account',
  payment_timeout: 'the bank did not answer in time',
  customer_cancelled: 'you cancelled',
  staff_cancelled: 'cancelled by the shop',
  operator_cancelled: 'cancelled by the shop’s support',
  workflow_ended: 'cancelled by the shop’s support',
};
