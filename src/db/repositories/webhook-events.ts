// Bank webhook events the API has handled: the one writer of webhook_events, which makes a redelivery a no-op.
import type { Knex } from 'knex';

export interface WebhookEventRecord {
  eventId: string;
  type: string;
  chargeId: string;
  reference: string;
}

export function createWebhookEventRepository(db: Knex) {
  return {
    /**
     * Records the event and runs `handle` in the same transaction, so the event counts as seen only once `handle`
     * succeeds: if it throws, the row rolls back and a redelivery gets another go. A concurrent redelivery waits on the
     * row and then skips. Returns false, without calling `handle`, for an event seen before.
     */
    async handleOnce(event: WebhookEventRecord, handle: () => Promise<void>): Promise<boolean> {
      return db.transaction(async (trx) => {
        const recorded = await trx('webhook_events')
          .insert({ event_id: event.eventId, type: event.type, charge_id: event.chargeId, reference: event.reference })
          .onConflict('event_id')
          .ignore()
          .returning('event_id');
        if (recorded.length === 0) return false;
        await handle();
        return true;
      });
    },
  };
}

export type WebhookEventRepository = ReturnType<typeof createWebhookEventRepository>;
