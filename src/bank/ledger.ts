// The bank's ledger over its own database: accounts, charges and their holds, and the webhook outbox written in the same transactions.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { conflict, notFound, unprocessable } from '../api/errors.js';
import type { Account, AccountBehavior, Charge, ChargeStatus, WebhookEvent, WebhookEventType } from './types.js';

interface AccountRow {
  id: string;
  holder_name: string;
  balance_cents: number | string;
  held_cents: number | string;
  behavior: AccountBehavior;
  decision_delay_ms: number;
  created_at: Date;
}

interface ChargeRow {
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

export interface OutboxDelivery {
  eventId: string;
  attempts: number;
  event: WebhookEvent;
}

function toAccount(row: AccountRow): Account {
  const balanceCents = Number(row.balance_cents);
  const heldCents = Number(row.held_cents);
  return {
    id: row.id,
    holderName: row.holder_name,
    balanceCents,
    heldCents,
    availableCents: balanceCents - heldCents,
    behavior: row.behavior,
    decisionDelayMs: row.decision_delay_ms,
    createdAt: row.created_at.toISOString(),
  };
}

function toCharge(row: ChargeRow): Charge {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    accountId: row.account_id,
    amountCents: Number(row.amount_cents),
    reference: row.reference,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    decidedAt: row.decided_at ? row.decided_at.toISOString() : null,
  };
}

// Refusals are the API's `ApiError`s, so the shared error handler answers them as `{ error, message }` 4xx.
const accountNotFound = (id: string) => notFound(`Account ${id}`);
const chargeNotFound = (id: string) => notFound(`Charge ${id}`);

export function createLedger(db: Knex) {
  /** Appends the event announcing `charge`'s new status; it commits or rolls back with the change itself. */
  async function enqueueEvent(trx: Knex.Transaction, type: WebhookEventType, charge: ChargeRow): Promise<void> {
    const event: WebhookEvent = {
      id: randomUUID(),
      type,
      createdAt: new Date().toISOString(),
      data: { chargeId: charge.id, reference: charge.reference, amountCents: Number(charge.amount_cents), status: charge.status },
    };
    await trx('webhook_outbox').insert({ event_id: event.id, type, charge_id: charge.id, payload: event });
  }

  async function lockCharge(trx: Knex.Transaction, id: string): Promise<ChargeRow> {
    const charge = await trx<ChargeRow>('charges').where({ id }).forUpdate().first();
    if (!charge) throw chargeNotFound(id);
    return charge;
  }

  async function lockAccount(trx: Knex.Transaction, id: string): Promise<AccountRow> {
    const account = await trx<AccountRow>('accounts').where({ id }).forUpdate().first();
    if (!account) throw accountNotFound(id);
    return account;
  }

  /** Moves an account's balance and held amount by the given deltas; the table's checks refuse an overdraft. */
  async function adjustAccount(trx: Knex.Transaction, id: string, delta: { balanceCents?: number; heldCents?: number }): Promise<void> {
    await trx('accounts').where({ id }).update({
      balance_cents: trx.raw('balance_cents + ?', [delta.balanceCents ?? 0]),
      held_cents: trx.raw('held_cents + ?', [delta.heldCents ?? 0]),
      updated_at: trx.fn.now(),
    });
  }

  async function settle(trx: Knex.Transaction, charge: ChargeRow, status: ChargeStatus, fields: { decided?: boolean } = {}): Promise<ChargeRow> {
    const [updated] = await trx('charges')
      .where({ id: charge.id })
      .update({
        status,
        held_cents: 0,
        decide_at: null,
        ...(fields.decided ? { decided_at: trx.fn.now() } : {}),
        updated_at: trx.fn.now(),
      })
      .returning<ChargeRow[]>('*');
    return updated!;
  }

  function sameRequest(charge: ChargeRow, input: { accountId: string; amountCents: number; reference: string }): boolean {
    return charge.account_id === input.accountId && Number(charge.amount_cents) === input.amountCents && charge.reference === input.reference;
  }

  async function replay(key: string, input: { accountId: string; amountCents: number; reference: string }): Promise<Charge | undefined> {
    const existing = await db<ChargeRow>('charges').where({ idempotency_key: key }).first();
    if (!existing) return undefined;
    if (!sameRequest(existing, input)) {
      throw unprocessable('idempotency_key_reused', 'This idempotency key was already used for a different charge');
    }
    return toCharge(existing);
  }

  return {
    async createAccount(input: { holderName: string; balanceCents: number; behavior?: AccountBehavior; decisionDelayMs?: number }): Promise<Account> {
      const [row] = await db('accounts')
        .insert({
          holder_name: input.holderName,
          balance_cents: input.balanceCents,
          behavior: input.behavior ?? 'normal',
          decision_delay_ms: input.decisionDelayMs ?? 0,
        })
        .returning<AccountRow[]>('*');
      return toAccount(row!);
    },

    async getAccount(id: string): Promise<Account> {
      const row = await db<AccountRow>('accounts').where({ id }).first();
      if (!row) throw accountNotFound(id);
      return toAccount(row);
    },

    async getCharge(id: string): Promise<Charge> {
      const row = await db<ChargeRow>('charges').where({ id }).first();
      if (!row) throw chargeNotFound(id);
      return toCharge(row);
    },

    /** The charge created with an idempotency key, if there is one. */
    async findChargeByKey(idempotencyKey: string): Promise<Charge | undefined> {
      const row = await db<ChargeRow>('charges').where({ idempotency_key: idempotencyKey }).first();
      return row ? toCharge(row) : undefined;
    },

    /**
     * Accepts a charge and holds its amount at once when the funds suffice, so concurrent charges
     * cannot spend the same money; the decision follows after the account's delay. The same key with
     * the same request answers with the charge it created.
     */
    async requestCharge(input: { idempotencyKey: string; accountId: string; amountCents: number; reference: string }): Promise<{ charge: Charge; created: boolean }> {
      const earlier = await replay(input.idempotencyKey, input);
      if (earlier) return { charge: earlier, created: false };

      const inserted = await db.transaction(async (trx) => {
        // The account row lock serialises charges on one account, so the funds check below cannot race.
        const account = await lockAccount(trx, input.accountId);
        const available = Number(account.balance_cents) - Number(account.held_cents);
        const heldCents = available >= input.amountCents ? input.amountCents : 0;
        const [charge] = await trx('charges')
          .insert({
            idempotency_key: input.idempotencyKey,
            account_id: input.accountId,
            amount_cents: input.amountCents,
            reference: input.reference,
            held_cents: heldCents,
            decide_at: account.behavior === 'silent'
              ? null
              : trx.raw("now() + ?::bigint * interval '1 millisecond'", [account.decision_delay_ms]),
          })
          .onConflict('idempotency_key')
          .ignore()
          .returning<ChargeRow[]>('*');
        // A concurrent request with the same key won the insert; its charge is the answer.
        if (!charge) return undefined;
        if (heldCents > 0) {
          await adjustAccount(trx, account.id, { heldCents });
        }
        return charge;
      });
      if (inserted) return { charge: toCharge(inserted), created: true };
      const raced = await replay(input.idempotencyKey, input);
      if (!raced) throw new Error(`Charge with key ${input.idempotencyKey} vanished after a conflicting insert`);
      return { charge: raced, created: false };
    },

    /**
     * Cancels a charge: a pending one is voided (its hold released, no decision will follow), an
     * approved one is refunded. Repeating it, or voiding a charge the bank already refused, changes nothing.
     */
    async voidCharge(id: string): Promise<Charge> {
      return db.transaction(async (trx) => {
        const charge = await lockCharge(trx, id);
        const account = await lockAccount(trx, charge.account_id);
        if (charge.status === 'pending') {
          if (Number(charge.held_cents) > 0) {
            await adjustAccount(trx, account.id, { heldCents: -Number(charge.held_cents) });
          }
          const voided = await settle(trx, charge, 'voided');
          await enqueueEvent(trx, 'charge.voided', voided);
          return toCharge(voided);
        }
        if (charge.status === 'approved') {
          await adjustAccount(trx, account.id, { balanceCents: Number(charge.amount_cents) });
          const refunded = await settle(trx, charge, 'refunded');
          await enqueueEvent(trx, 'charge.refunded', refunded);
          return toCharge(refunded);
        }
        return toCharge(charge);
      });
    },

    /** Gives an approved charge's money back; a refunded one stays as it is. Anything else has taken no money. */
    async refundCharge(id: string): Promise<Charge> {
      return db.transaction(async (trx) => {
        const charge = await lockCharge(trx, id);
        if (charge.status === 'refunded') return toCharge(charge);
        if (charge.status === 'pending') {
          throw conflict('charge_pending', 'The charge is not decided yet; void it instead');
        }
        if (charge.status !== 'approved') {
          throw conflict('charge_not_captured', `The charge took no money (it is ${charge.status}), so there is nothing to refund`);
        }
        await lockAccount(trx, charge.account_id);
        await adjustAccount(trx, charge.account_id, { balanceCents: Number(charge.amount_cents) });
        const refunded = await settle(trx, charge, 'refunded');
        await enqueueEvent(trx, 'charge.refunded', refunded);
        return toCharge(refunded);
      });
    },

    /**
     * Decides one pending charge whose time has come, if any; returns whether it did. Each decision is
     * its own transaction and skips rows another bank process holds, so replicas can share the work.
     */
    async decideNextDueCharge(): Promise<boolean> {
      return db.transaction(async (trx) => {
        const charge = await trx<ChargeRow>('charges')
          .where({ status: 'pending' })
          .whereNotNull('decide_at')
          .andWhere('decide_at', '<=', trx.fn.now())
          .orderBy('decide_at')
          .forUpdate()
          .skipLocked()
          .first();
        if (!charge) return false;
        const account = await lockAccount(trx, charge.account_id);
        const amount = Number(charge.amount_cents);
        const held = Number(charge.held_cents);
        if (account.behavior === 'silent') {
          // The account went silent after the charge arrived: it now never answers.
          await trx('charges').where({ id: charge.id }).update({ decide_at: null, updated_at: trx.fn.now() });
          return true;
        }
        let status: Extract<ChargeStatus, 'approved' | 'insufficient_funds' | 'declined'>;
        if (account.behavior === 'decline') status = 'declined';
        else if (held < amount) status = 'insufficient_funds';
        else status = 'approved';

        if (status === 'approved') {
          // Capture: the held money leaves the balance.
          await adjustAccount(trx, account.id, { balanceCents: -amount, heldCents: -held });
        } else if (held > 0) {
          await adjustAccount(trx, account.id, { heldCents: -held });
        }
        const decided = await settle(trx, charge, status, { decided: true });
        await enqueueEvent(trx, `charge.${status}`, decided);
        return true;
      });
    },

    /**
     * Claims up to `limit` events due for delivery by pushing their next attempt `leaseMs` ahead, so a
     * process that dies mid-delivery leaves them to be retried after the lease rather than lost.
     */
    async claimDueDeliveries(limit: number, leaseMs: number): Promise<OutboxDelivery[]> {
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
        .update({ last_error: error.slice(0, 500), next_attempt_at: db.raw("now() + ?::bigint * interval '1 millisecond'", [retryInMs]) });
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
