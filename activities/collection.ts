// The end of a collection order: each is one transaction over the order and what it holds, so the read model never
// shows an order collected (or uncollected) whose units are not yet sold or whose slot capacity is still held.
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';
import { commitOrderStock } from './inventory.js';
import { logOrder } from './log.js';

export function createCollectionActivities(db: Knex) {
  const repos = createRepositories(db);
  return {
    /**
     * Collected at the counter, or never collected within the window: the units are sold either way, the slot's
     * capacity is free again, and the charge stays captured.
     */
    async recordCollectionEnded(input: { orderId: string; status: 'completed' | 'uncollected' }): Promise<void> {
      await repos.transaction(async (tx) => {
        await commitOrderStock(tx.stock, input.orderId);
        await tx.slots.releaseHold(input.orderId);
        await tx.orders.writeStatus({ orderId: input.orderId, status: input.status });
      });
      logOrder('info', input.orderId, 'collection ended', { status: input.status });
    },

    /** The ready order's number has been on the public board long enough; the order itself still waits. */
    async recordLeftBoard(input: { orderId: string }): Promise<void> {
      await repos.orders.leaveBoard(input.orderId);
      logOrder('info', input.orderId, 'left the board', { status: 'ready_for_collection' });
    },
  };
}
