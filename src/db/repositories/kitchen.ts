// Kitchen and POS integrations: the one writer of kitchen_secrets (each location's inbound signing secret and the one
// a rotation replaced) and kitchen_messages (the message ids already acted on, which make a resent message a no-op).
import type { Knex } from 'knex';
import { ACTIVE_STATUSES, type OrderStatus } from '../../domain/vocabulary.js';

export interface KitchenSecretStatus {
  createdAt: string;
  /** When the secret this one replaced stops being accepted; null when there is none, or it has stopped. */
  previousExpiresAt: string | null;
}

export interface KitchenMessage {
  locationId: string;
  messageId: string;
  type: string;
  orderId: string;
}

interface SecretRow {
  secret: string;
  created_at: Date;
  previous_secret: string | null;
  previous_expires_at: Date | null;
}

export function createKitchenRepository(db: Knex) {
  return {
    async secretStatus(locationId: string): Promise<KitchenSecretStatus | undefined> {
      const row = await db('kitchen_secrets').where({ location_id: locationId }).first<SecretRow | undefined>();
      if (!row) return undefined;
      const previousLive = row.previous_expires_at && row.previous_expires_at.getTime() > Date.now();
      return {
        createdAt: row.created_at.toISOString(),
        previousExpiresAt: previousLive ? row.previous_expires_at!.toISOString() : null,
      };
    },

    /**
     * Sets the location's secret. The one it replaces stays valid for `overlapMs`, so the kitchen system can switch
     * over without a refused message; a secret older than that is dropped at once.
     */
    async rotateSecret(locationId: string, secret: string, overlapMs: number): Promise<KitchenSecretStatus> {
      const [row] = await db('kitchen_secrets')
        .insert({ location_id: locationId, secret })
        .onConflict('location_id')
        .merge({
          secret,
          created_at: db.fn.now(),
          previous_secret: db.ref('kitchen_secrets.secret'),
          previous_expires_at: db.raw('now() + make_interval(secs => ?)', [overlapMs / 1000]),
        })
        .returning<SecretRow[]>(['secret', 'created_at', 'previous_secret', 'previous_expires_at']);
      return {
        createdAt: row!.created_at.toISOString(),
        previousExpiresAt: row!.previous_expires_at?.toISOString() ?? null,
      };
    },

    /** The secrets a message to this location may be signed with now: the current one, then the replaced one while it lasts. */
    async verificationSecrets(locationId: string): Promise<string[]> {
      const row = await db('kitchen_secrets').where({ location_id: locationId }).first<SecretRow | undefined>();
      if (!row) return [];
      const previousLive = row.previous_secret && row.previous_expires_at!.getTime() > Date.now();
      return previousLive ? [row.secret, row.previous_secret!] : [row.secret];
    },

    /**
     * Records the message and runs `handle` in the same transaction, so the message counts as acted on only once
     * `handle` succeeds: if it throws (a refused transition, an outage), the row rolls back and a resend gets another
     * go. A concurrent resend waits on the row and then skips. Returns false, without calling `handle`, for a message
     * seen before.
     */
    async handleOnce(message: KitchenMessage, handle: () => Promise<void>): Promise<boolean> {
      return db.transaction(async (trx) => {
        const recorded = await trx('kitchen_messages')
          .insert({
            location_id: message.locationId,
            message_id: message.messageId,
            type: message.type,
            order_id: message.orderId,
          })
          .onConflict(['location_id', 'message_id'])
          .ignore()
          .returning('message_id');
        if (recorded.length === 0) return false;
        await handle();
        return true;
      });
    },

    /** Forgets message ids older than `ttlMs`; returns how many. */
    async sweepMessages(ttlMs: number): Promise<number> {
      return db('kitchen_messages')
        .where('received_at', '<', db.raw('now() - make_interval(secs => ?)', [ttlMs / 1000]))
        .delete();
    },

    /**
     * The location's active orders whose board number is `number` (the id's first four hex digits), with their
     * statuses, newest first: a number names one order at a time only with high probability.
     */
    async activeOrdersNumbered(locationId: string, number: string): Promise<{ id: string; status: OrderStatus }[]> {
      return db('orders')
        .where({ location_id: locationId })
        .whereIn('status', ACTIVE_STATUSES)
        .andWhereRaw('id::text LIKE ?', [`${number.toLowerCase()}%`])
        .orderBy('created_at', 'desc')
        .limit(20)
        .select<{ id: string; status: OrderStatus }[]>('id', 'status');
    },
  };
}

export type KitchenRepository = ReturnType<typeof createKitchenRepository>;
