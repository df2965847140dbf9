// Activities that keep the order read model and its event stream in step with the workflow.
import type { Knex } from 'knex';
import { appendEvent, streams } from '../src/events/log.js';
import type { OrderInput, OrderReason, OrderStatus } from '../workflows/messages.js';

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
    },

    /** Moves the read model to `status` and appends the change; repeating the same change is a no-op. */
    async recordOrderStatus(orderId: string, status: OrderStatus, reason: OrderReason | null): Promise<void> {
      await db.transaction(async (trx) => {
        const updated = await trx('orders')
          .where({ id: orderId })
          .andWhereNot({ status })
          .update({ status, reason, updated_at: trx.fn.now() })
          .returning('location_id');
        if (updated.length === 0) return;
        await appendEvent(trx, streams.order(orderId), 'order.status', { orderId, status, reason });
      });
    },
  };
}
