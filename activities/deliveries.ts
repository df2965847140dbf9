// The delivery's steps that move its order as well: each is one transaction over the delivery, the order and what the
// order holds, so the read model never shows a delivery picked up whose units are not yet sold, or delivered whose slot
// capacity is still held.
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';
import { deliveryProgressSignal } from '../workflows/messages.js';
import { commitOrderStock } from './inventory.js';
import { logOrder } from './log.js';

export interface DeliveryStep {
  orderId: string;
  locationId: string;
  driverId: string;
}

export function createDeliveryActivities(db: Knex) {
  const repos = createRepositories(db);
  return {
    /**
     * The driver has the food: its units are sold for good and the order is out for delivery. Then the order workflow
     * hears of it, to keep its search attributes current; a repeated signal changes nothing there.
     */
    async recordPickup(step: DeliveryStep & { orderWorkflowId: string }): Promise<void> {
      await repos.transaction(async (tx) => {
        await commitOrderStock(tx.stock, step.orderId);
        await tx.deliveries.writeStatus({
          orderId: step.orderId,
          locationId: step.locationId,
          status: 'picked_up',
          driverId: step.driverId,
        });
        await tx.orders.writeStatus({ orderId: step.orderId, status: 'out_for_delivery' });
      });
      logOrder('info', step.orderId, 'picked up', {
        deliveryStatus: 'picked_up',
        status: 'out_for_delivery',
        driverId: step.driverId,
      });
      await Context.current()
        .client.workflow.getHandle(step.orderWorkflowId)
        .signal(deliveryProgressSignal, { status: 'picked_up', driverId: step.driverId });
    },

    /** Delivered: the slot's capacity is free for others again and the order is completed. */
    async recordDelivered(step: DeliveryStep): Promise<void> {
      await repos.transaction(async (tx) => {
        await tx.deliveries.writeStatus({
          orderId: step.orderId,
          locationId: step.locationId,
          status: 'delivered',
          driverId: step.driverId,
        });
        await tx.slots.releaseHold(step.orderId);
        await tx.orders.writeStatus({ orderId: step.orderId, status: 'completed' });
      });
      logOrder('info', step.orderId, 'delivered', {
        deliveryStatus: 'delivered',
        status: 'completed',
        driverId: step.driverId,
      });
    },
  };
}
