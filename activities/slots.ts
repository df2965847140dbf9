// Slot capacity holds: atomic, never over capacity, never after cutoff, idempotent per order.
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';
import type { ReserveSlotResult } from '../src/db/repositories/slots.js';
import { planSlots } from '../src/domain/slots.js';

export type { ReserveSlotResult };

export function createSlotActivities(db: Knex) {
  const { slots } = createRepositories(db);
  return {
    async reserveSlot(input: { orderId: string; slotId: string }): Promise<ReserveSlotResult> {
      return slots.reserveHold(input.orderId, input.slotId);
    },

    /** Gives the order's capacity back; releasing a hold that is gone changes nothing. */
    async releaseSlot(input: { orderId: string }): Promise<void> {
      await slots.releaseHold(input.orderId);
    },

    /** Creates the slots of the coming days from every location's templates; existing slots are left as they are. */
    async createSlotsFromTemplates(input: {
      daysAhead: number;
    }): Promise<{ slotId: string; cutoffAt: string; endsAt: string }[]> {
      const now = new Date();
      const byLocation = await slots.templatesByLocation();
      const created: { slotId: string; cutoffAt: string; endsAt: string }[] = [];
      for (const [locationId, { timezone, templates }] of byLocation) {
        const planned = planSlots(templates, timezone, now, input.daysAhead);
        if (planned.length === 0) continue;
        created.push(...(await slots.createMissing(locationId, planned)));
      }
      return created;
    },

    /** The slot's current cutoff and end, which the owner may have moved. */
    async slotTimes(slotId: string): Promise<{ cutoffAt: string; endsAt: string; status: string } | null> {
      return slots.times(slotId);
    },

    /** Closes the slot to new orders and names the orders still waiting for payment in it. */
    async closeSlot(slotId: string): Promise<{ awaitingPaymentOrderIds: string[] }> {
      return slots.close(slotId);
    },

    async finishSlot(slotId: string): Promise<void> {
      await slots.finish(slotId);
    },
  };
}
