// Activities that keep the order read model, its deliveries and their event streams in step with the workflows.
import type { Knex } from 'knex';
import { appendEvent, streams } from '../src/events/log.js';
import type { DeliveryStatus, OrderInput, OrderReason, OrderStatus } from '../workflows/messages.js';
import { logOrder } from './log.js';

export interface OrderStatusChange {
  orderId: string;
  status: OrderStatus;
  reason?: OrderReason | null;
  totalCents?: number;
  chargeId?: string;
  /** Exact line amounts from the stock reservation. */
  lineAmounts?: { productId: string; amountCents: number }[];
}

// A local activity can run again when a worker dies before its result is recorded; the workflow then
// replays it after later steps already reached the database. Moving only forward keeps the read model
// and the event stream from stepping back.
const ORDER_RANK: Record<OrderStatus, number> = {
  placed: 0,
  awaiting_payment: 1,
  confirmed: 2,
  prepping: 3,
  prepped: 4,
  out_for_delivery: 5,
  completed: 6,
  rejected: 6,
  payment_failed: 6,
  cancelled: 6,
};
const DELIVERY_RANK: Record<DeliveryStatus, number> = { pending: 0, assigned: 1, picked_up: 2, delivered: 3 };

/** The statuses an order may move to `status` from. */
export function orderStatusesBefore(status: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_RANK) as OrderStatus[]).filter((s) => ORDER_RANK[s] < ORDER_RANK[status]);
}

export function deliveryStatusesBefore(status: DeliveryStatus): DeliveryStatus[] {
  return (Object.keys(DELIVERY_RANK) as DeliveryStatus[]).filter((s) => DELIVERY_RANK[s] < DELIVERY_RANK[status]);
}

export interface DeliveryStatusChange {
  orderId: string;
  locationId: string;
  status: DeliveryStatus;
  driverId: string | null;
}

/** Moves the order's read model forward inside `trx` and appends the change to its streams; a repeat is a no-op. */
export async function writeOrderStatus(trx: Knex.Transaction, change: OrderStatusChange): Promise<void> {
  const { orderId, status } = change;
  const reason = change.reason ?? null;
  const updated = await trx('orders')
    .where({ id: orderId })
    .whereIn('status', orderStatusesBefore(status))
    .update({
      status,
      reason,
      updated_at: trx.fn.now(),
      ...(change.totalCents === undefined ? {} : { total_cents: change.totalCents }),
      ...(change.chargeId === undefined ? {} : { charge_id: change.chargeId }),
    })
    .returning<{ location_id: string; total_cents: number }[]>(['location_id', 'total_cents']);
  if (updated.length === 0) return;
  for (const line of change.lineAmounts ?? []) {
    await trx('order_lines')
      .where({ order_id: orderId, product_id: line.productId })
      .update({ unit_price_cents: trx.raw('round(?::numeric / quantity)', [line.amountCents]) });
  }
  const payload = { orderId, status, reason, totalCents: updated[0]!.total_cents };
  await appendEvent(trx, streams.order(orderId), 'order.status', payload);
  await appendEvent(trx, streams.location(updated[0]!.location_id), 'order.status', payload);
}

/** Moves the delivery row forward inside `trx` (creating it when pending) and appends the change to its streams. */
export async function writeDeliveryStatus(trx: Knex.Transaction, input: DeliveryStatusChange): Promise<void> {
  const changed = await trx('deliveries')
    .insert({ order_id: input.orderId, location_id: input.locationId, status: input.status, driver_id: input.driverId })
    .onConflict('order_id')
    .merge({ status: input.status, driver_id: input.driverId, updated_at: trx.fn.now() })
    .whereIn('deliveries.status', deliveryStatusesBefore(input.status))
    .returning('order_id');
  if (changed.length === 0) return;
  const payload = { orderId: input.orderId, deliveryStatus: input.status, driverId: input.driverId };
  await appendEvent(trx, streams.order(input.orderId), 'delivery.status', payload);
  await appendEvent(trx, streams.location(input.locationId), 'delivery.status', payload);
  if (input.driverId) await appendEvent(trx, streams.driver(input.driverId), 'delivery.status', payload);
}

export function createOrderActivities(db: Knex) {
  return {
    /** Writes the order and its lines once; a retry finds them there and changes nothing. */
    async recordOrderPlaced(input: OrderInput): Promise<void> {
      await db.transaction(async (trx) => {
        const totalCents = input.lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
        const inserted = await trx('orders')
          .insert({
            id: input.orderId,
            customer_id: input.customerId,
            location_id: input.locationId,
            slot_id: input.slotId,
            slot_starts_at: input.slotStartsAt,
            status: 'placed',
            total_cents: totalCents,
            address: input.address,
          })
          .onConflict('id')
          .ignore()
          .returning('id');
        if (inserted.length === 0) return;
        await trx('order_lines').insert(
          input.lines.map((l) => ({ order_id: input.orderId, product_id: l.productId, quantity: l.quantity, unit_price_cents: l.unitPriceCents })),
        );
        await appendEvent(trx, streams.order(input.orderId), 'order.placed', { orderId: input.orderId, status: 'placed', totalCents });
      });
      // After the commit, so the line never claims what a rollback undid (a retry logs it again).
      logOrder('info', input.orderId, 'order recorded', { status: 'placed', customerId: input.customerId, locationId: input.locationId });
    },

    /** Moves the read model to a status and appends the change; repeating the same change is a no-op. */
    async recordOrderStatus(change: OrderStatusChange): Promise<void> {
      await db.transaction((trx) => writeOrderStatus(trx, change));
      logOrder('info', change.orderId, 'order status recorded', { status: change.status, reason: change.reason ?? null });
    },

    /** Keeps the delivery row and the streams of the order, its location and its driver current. */
    async recordDeliveryStatus(input: DeliveryStatusChange): Promise<void> {
      await db.transaction((trx) => writeDeliveryStatus(trx, input));
      logOrder('info', input.orderId, 'delivery status recorded', { deliveryStatus: input.status, driverId: input.driverId });
    },
  };
}
