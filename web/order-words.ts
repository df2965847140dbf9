// How the customer's pages name an order's statuses and reasons, for every status and reason the vocabulary defines.
import type { DeliveryStatus, OrderReason, OrderStatus } from '../src/domain/vocabulary.js';

export const ORDER_STATUS: Record<OrderStatus, string> = {
  placed: 'Order received',
  awaiting_payment: 'Waiting for payment',
  confirmed: 'Paid and confirmed',
  prepping: 'Being prepared',
  prepped: 'Ready, waiting for a driver',
  ready_for_collection: 'Ready for collection',
  out_for_delivery: 'On its way',
  completed: 'Delivered',
  uncollected: 'Not collected',
  rejected: 'Not accepted',
  payment_failed: 'Payment failed',
  cancelled: 'Cancelled',
};

// Only what the order's own statuses do not already say: waiting for a driver is `prepped`, picked up is
// `out_for_delivery`, handed over is `completed`.
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
