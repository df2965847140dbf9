// The bank's ledger statements over the bank's own database: the one writer of accounts, charges and webhook_outbox.
// The bank's rules (funds checks, decisions, refunds) are in src/bank/ledger.ts; this is how they reach the rows.
import type { Knex } from 'knex';
import type { AccountBehavior, ChargeStatus, WebhookEvent, WebhookEventType } from '../../bank/types.js';

export interface AccountRow {
  id: string;
  holder_name: string;
  balance_cents: number | string;
  held_cents: number | string;
  behavior: AccountBehavior;
  decision_delay_ms: number;
  created_at: Date;
}

export interface ChargeRow {
  id: string;
  idempotency_key: string;
  account_id: string;
  amount_cents: number | string;
  reference: string;
  status: ChargeStatus;
  held_cents: number | string;
  decide_at: Date | null;
  decided_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

function statements(db: Knex) {
  return {
    async insertAccount(input: {
      holderName: string;
      balanceCents: number;
      behavior: AccountBehavior;
      decisionDelayMs: number;
    }): Promise<AccountRow> {
      const [row] = await db('accounts')
        .insert({
          holder_name: input.holderName,
          balance_cents: input.balanceCents,
          behavior: input.behavior,
          decision_delay_ms: input.decisionDelayMs,
        })
        .returning<AccountRow[]>('*');
      return row!;
    },

    async findAccount(id: string): Promise<AccountRow | undefined> {
      return db<AccountRow>('accounts').where({ id }).first();
    },

    async findCharge(id: string): Promise<ChargeRow | undefined> {
      return db<ChargeRow>('charges').where({ id }).first();
    },

    async findChargeByKey(idempotencyKey: string): Promise<ChargeRow | undefined> {
      return db<ChargeRow>('charges').where({ idempotency_key: idempotencyKey }).first();
    },

    /** Locks the charge's row for the rest of the transaction. */
    async lockCharge(id: string): Promise<ChargeRow | undefined> {
      return db<ChargeRow>('charges').where({ id }).forUpdate().first();
    },

    /** Locks the account's row for the rest of the transaction: it serialises the charges on one account. */
    async lockAccount(id: string): Promise<AccountRow | undefined> {
      return db<AccountRow>('accounts').where({ id }).forUpdate().first();
    },

    /** Moves an account's balance and held amount by the given deltas; the table's checks refuse an overdraft. */
    async adjustAccount(id: string, delta: { balanceCents?: number; heldCents?: number }): Promise<void> {
      await db('accounts')
        .where({ id })
        .update({
          balance_cents: db.raw('balance_cents + ?', [delta.balanceCents ?? 0]),
          held_cents: db.raw('held_cents + ?', [delta.heldCents ?? 0]),
          updated_at: db.fn.now(),
        });
    },

    /**
     * Inserts a pending charge holding `heldCents`, decided `decideAfterMs` from now (null: never). Undefined when a
     * concurrent request with the same idempotency key inserted first.
     */
    async insertCharge(input: {
      idempotencyKey: string;
      accountId: string;
      amountCents: number;
      reference: string;
      heldCents: number;
      decideAfterMs: number | null;
    }): Promise<ChargeRow | undefined> {
      const [charge] = await db('charges')
        .insert({
          idempotency_key: input.idempotencyKey,
          account_id: input.accountId,
          amount_cents: input.amountCents,
          reference: input.reference,
          held_cents: input.heldCents,
          decide_at:
            input.decideAfterMs === null
              ? null
              : db.raw("now() + ?::bigint * interval '1 millisecond'", [input.decideAfterMs]),
        })
        .onConflict('idempotency_key')
        .ignore()
        .returning<ChargeRow[]>('*');
      return charge;
    },

    /** Gives the charge its final status: nothing held any more, no decision due. */
    async settle(chargeId: string, status: ChargeStatus, fields: { decided?: boolean } = {}): Promise<ChargeRow> {
      const [updated] = await db('charges')
        .where({ id: chargeId })
        .update({
          status,
          held_cents: 0,
          decide_at: null,
          ...(fields.decided ? { decided_at: db.fn.now() } : {}),
          updated_at: db.fn.now(),
        })
        .returning<ChargeRow[]>('*');
      return updated!;
    },

    /** The charge stays pending and is never decided. */
    async stopDeciding(chargeId: string): Promise<void> {
      await db('charges').where({ id: chargeId }).update({ decide_at: null, updated_at: db.fn.now() });
    },

    /** Locks the pending charge whose decision is most overdue, skipping rows another bank process holds. */
    async lockNextDueCharge(): Promise<ChargeRow | undefined> {
      return db<ChargeRow>('charges')
        .where({ status: 'pending' })
        .whereNotNull('decide_at')
        .andWhere('decide_at', '<=', db.fn.now())
        .orderBy('decide_at')
        .forUpdate()
        .skipLocked()
        .first();
    },

    /**
     * Milliseconds until the next pending decision or webhook attempt falls due (0 if one is due now), or null when
     * nothing waits. Both read the end of a partial index of what waits.
     */
    async nextDueInMs(): Promise<number | null> {
      // Null when nothing waits (greatest() would turn that null into 0, and an idle bank would poll flat out).
      const { rows } = await db.raw<{ rows: { ms: string | null }[] }>(
        `SELECT ceil(extract(epoch FROM least(
            (SELECT min(decide_at) FROM charges WHERE status = 'pending' AND decide_at IS NOT NULL),
            (SELECT min(next_attempt_at) FROM webhook_outbox WHERE delivered_at IS NULL)
          ) - now()) * 1000) AS ms`,
      );
      const ms = rows[0]?.ms;
      return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
    },

    /** Appends a webhook event to the outbox; it commits or rolls back with the change it announces. */
    async enqueueWebhook(event: WebhookEvent & { type: WebhookEventType }, chargeId: string): Promise<void> {
      await db('webhook_outbox').insert({ event_id: event.id, type: event.type, charge_id: chargeId, payload: event });
    },

    /**
     * Claims up to `limit` events due for delivery by pushing their next attempt `leaseMs` ahead, so a
     * process that dies mid-delivery leaves them to be retried after the lease rather than lost.
     */
    async claimDueDeliveries(
      limit: number,
      leaseMs: number,
    ): Promise<{ eventId: string; attempts: number; event: WebhookEvent }[]> {
      const rows = await db.raw<{ rows: { event_id: string; attempts: number; payload: WebhookEvent }[] }>(
        `UPDATE webhook_outbox
            SET attempts = attempts + 1, next_attempt_at = now() + ?::bigint * interval '1 millisecond'
          WHERE event_id IN (
            SELECT event_id FROM webhook_outbox
             WHERE delivered_at IS NULL AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT ?
             FOR UPDATE SKIP LOCKED)
        RETURNING event_id, attempts, payload`,
        [leaseMs, limit],
      );
      return rows.rows.map((r) => ({ eventId: r.event_id, attempts: r.attempts, event: r.payload }));
    },

    async markDelivered(eventId: string): Promise<void> {
      await db('webhook_outbox').where({ event_id: eventId }).update({ delivered_at: db.fn.now(), last_error: null });
    },

    async markDeliveryFailed(eventId: string, error: string, retryInMs: number): Promise<void> {
      await db('webhook_outbox')
        .where({ event_id: eventId })
        .whereNull('delivered_at')
        .update({
          last_error: error.slice(0, 500),
          next_attempt_at: db.raw("now() + ?::bigint * interval '1 millisecond'", [retryInMs]),
        });
    },
  };
}

export type BankLedgerStatements = ReturnType<typeof statements>;

export function createBankLedgerRepository(db: Knex) {
  return {
    ...statements(db),
    /** Runs `work` in one transaction; the statements it is handed run in it. */
    transaction<T>(work: (tx: BankLedgerStatements) => Promise<T>): Promise<T> {
      return db.transaction((trx) => work(statements(trx)));
    },
  };
}
