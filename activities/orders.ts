// Activities that keep the order read model, its deliveries and their event streams in step with the workflows.
import type { Knex } from 'knex';
import type { DeliveryStatusChange } from '../src/db/repositories/deliveries.js';
import { createRepositories } from '../src/db/repositories/index.js';
import type { OrderStatusChange } from '../src/db/repositories/orders.js';
import type { OrderInput } from '../workflows/messages.js';
import { logOrder } from './log.js';

export type { DeliveryStatusChange, OrderStatusChange };

// A local activity can run again when a worker dies before its result is recorded; the workflow then replays it after
// later steps already reached the database. The repositories move the read model only forward (by the vocabulary's
// ORDER_STATUS_RANK and DELIVERY_STATUS_RANK), which keeps it and the event stream from stepping back.

export function createOrderActivities(db: Knex) {
  const repos = createRepositories(db);
  return {
    /** Writes the order and its lines once; a retry finds them there and changes nothing. */
    async recordOrderPlaced(input: OrderInput): Promise<void> {
      await repos.orders.recordPlaced(input);
      // After the commit, so the line never claims what a rollback undid (a retry logs it again).
      logOrder('info', input.orderId, 'order recorded', {
        status: 'placed',
        customerId: input.customerId,
        locationId: input.locationId,
      });
    },

    /** Moves the read model to a status and appends the change; repeating the same change is a no-op. */
    async recordOrderStatus(change: OrderStatusChange): Promise<void> {
      await repos.orders.writeStatus(change);
      logOrder('info', change.orderId, 'order status recorded', {
        status: change.status,
        reason: change.reason ?? null,
      });
    },

    /** Keeps the delivery row and the streams of the order, its location and its driver current. */
    async recordDeliveryStatus(input: DeliveryStatusChange): Promise<void> {
      await repos.deliveries.writeStatus(input);
      logOrder('info', input.orderId, 'delivery status recorded', {
        deliveryStatus: input.status,
        driverId: input.driverId,
      });
    },
  };
}
