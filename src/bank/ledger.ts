// The bank's ledger over its own database: accounts, charges and their holds, and the webhook outbox written in the same transactions.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { conflict, notFound, unprocessable } from '../api/errors.js';
import {
  createBankLedgerRepository,
  type AccountRow,
  type BankLedgerStatements,
  type ChargeRow,
} from '../db/repositories/bank-ledger.js';
import type { Account, AccountBehavior, Charge, ChargeStatus, WebhookEvent, WebhookEventType } from './types.js';

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
  const rows = createBankLedgerRepository(db);

  /** Appends the event announcing `charge`'s new status; it commits or rolls back with the change itself. */
  async function enqueueEvent(tx: BankLedgerStatements, type: WebhookEventType, charge: ChargeRow): Promise<void> {
    const event: WebhookEvent = {
      id: randomUUID(),
      type,
      createdAt: new Date().toISOString(),
      data: {
        chargeId: charge.id,
        reference: charge.reference,
        amountCents: Number(charge.amount_cents),
        status: charge.status,
      },
    };
    await tx.enqueueWebhook(event, charge.id);
  }

  async function lockCharge(tx: BankLedgerStatements, id: string): Promise<ChargeRow> {
    const charge = await tx.lockCharge(id);
    if (!charge) throw chargeNotFound(id);
    return charge;
  }

  async function lockAccount(tx: BankLedgerStatements, id: string): Promise<AccountRow> {
    const account = await tx.lockAccount(id);
    if (!account) throw accountNotFound(id);
    return account;
  }

  function sameRequest(
    charge: ChargeRow,
    input: { accountId: string; amountCents: number; reference: string },
  ): boolean {
    return (
      charge.account_id === input.accountId &&
      Number(charge.amount_cents) === input.amountCents &&
      charge.reference === input.reference
    );
  }

  async function replay(
    key: string,
    input: { accountId: string; amountCents: number; reference: string },
  ): Promise<Charge | undefined> {
    const existing = await rows.findChargeByKey(key);
    if (!existing) return undefined;
    if (!sameRequest(existing, input)) {
      throw unprocessable('idempotency_key_reused', 'This idempotency key was already used for a different charge');
    }
    return toCharge(existing);
  }

  return {
    async createAccount(input: {
      holderName: string;
      balanceCents: number;
      behavior?: AccountBehavior;
      decisionDelayMs?: number;
    }): Promise<Account> {
      const row = await rows.insertAccount({
        holderName: input.holderName,
        balanceCents: input.balanceCents,
        behavior: input.behavior ?? 'normal',
        decisionDelayMs: input.decisionDelayMs ?? 0,
      });
      return toAccount(row);
    },

    async getAccount(id: string): Promise<Account> {
      const row = await rows.findAccount(id);
      if (!row) throw accountNotFound(id);
      return toAccount(row);
    },

    async getCharge(id: string): Promise<Charge> {
      const row = await rows.findCharge(id);
      if (!row) throw chargeNotFound(id);
      return toCharge(row);
    },

    /** The charge created with an idempotency key, if there is one. */
    async findChargeByKey(idempotencyKey: string): Promise<Charge | undefined> {
      const row = await rows.findChargeByKey(idempotencyKey);
      return row ? toCharge(row) : undefined;
    },

    /**
     * Accepts a charge and holds its amount at once when the funds suffice, so concurrent charges
     * cannot spend the same money; the decision follows after the account's delay. The same key with
     * the same request answers with the charge it created.
     */
    async requestCharge(input: {
      idempotencyKey: string;
      accountId: string;
      amountCents: number;
      reference: string;
    }): Promise<{ charge: Charge; created: boolean }> {
      const earlier = await replay(input.idempotencyKey, input);
      if (earlier) return { charge: earlier, created: false };

      const inserted = await rows.transaction(async (tx) => {
        // The account row lock serialises charges on one account, so the funds check below cannot race.
        const account = await lockAccount(tx, input.accountId);
        const available = Number(account.balance_cents) - Number(account.held_cents);
        const heldCents = available >= input.amountCents ? input.amountCents : 0;
        const charge = await tx.insertCharge({
          idempotencyKey: input.idempotencyKey,
          accountId: input.accountId,
          amountCents: input.amountCents,
          reference: input.reference,
          heldCents,
          decideAfterMs: account.behavior === 'silent' ? null : account.decision_delay_ms,
        });
        // A concurrent request with the same key won the insert; its charge is the answer.
        if (!charge) return undefined;
        if (heldCents > 0) {
          await tx.adjustAccount(account.id, { heldCents });
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
      return rows.transaction(async (tx) => {
        const charge = await lockCharge(tx, id);
        const account = await lockAccount(tx, charge.account_id);
        if (charge.status === 'pending') {
          if (Number(charge.held_cents) > 0) {
            await tx.adjustAccount(account.id, { heldCents: -Number(charge.held_cents) });
          }
          const voided = await tx.settle(charge.id, 'voided');
          await enqueueEvent(tx, 'charge.voided', voided);
          return toCharge(voided);
        }
        if (charge.status === 'approved') {
          await tx.adjustAccount(account.id, { balanceCents: Number(charge.amount_cents) });
          const refunded = await tx.settle(charge.id, 'refunded');
          await enqueueEvent(tx, 'charge.refunded', refunded);
          return toCharge(refunded);
        }
        return toCharge(charge);
      });
    },

    /** Gives an approved charge's money back; a refunded one stays as it is. Anything else has taken no money. */
    async refundCharge(id: string): Promise<Charge> {
      return rows.transaction(async (tx) => {
        const charge = await lockCharge(tx, id);
        if (charge.status === 'refunded') return toCharge(charge);
        if (charge.status === 'pending') {
          throw conflict('charge_pending', 'The charge is not decided yet; void it instead');
        }
        if (charge.status !== 'approved') {
          throw conflict(
            'charge_not_captured',
            `The charge took no money (it is ${charge.status}), so there is nothing to refund`,
          );
        }
        await lockAccount(tx, charge.account_id);
        await tx.adjustAccount(charge.account_id, { balanceCents: Number(charge.amount_cents) });
        const refunded = await tx.settle(charge.id, 'refunded');
        await enqueueEvent(tx, 'charge.refunded', refunded);
        return toCharge(refunded);
      });
    },

    /**
     * Decides one pending charge whose time has come, if any; returns whether it did. Each decision is
     * its own transaction and skips rows another bank process holds, so replicas can share the work.
     */
    async decideNextDueCharge(): Promise<boolean> {
      return rows.transaction(async (tx) => {
        const charge = await tx.lockNextDueCharge();
        if (!charge) return false;
        const account = await lockAccount(tx, charge.account_id);
        const amount = Number(charge.amount_cents);
        const held = Number(charge.held_cents);
        if (account.behavior === 'silent') {
          // The account went silent after the charge arrived: it now never answers.
          await tx.stopDeciding(charge.id);
          return true;
        }
        let status: Extract<ChargeStatus, 'approved' | 'insufficient_funds' | 'declined'>;
        if (account.behavior === 'decline') status = 'declined';
        else if (held < amount) status = 'insufficient_funds';
        else status = 'approved';

        if (status === 'approved') {
          // Capture: the held money leaves the balance.
          await tx.adjustAccount(account.id, { balanceCents: -amount, heldCents: -held });
        } else if (held > 0) {
          await tx.adjustAccount(account.id, { heldCents: -held });
        }
        const decided = await tx.settle(charge.id, status, { decided: true });
        await enqueueEvent(tx, `charge.${status}`, decided);
        return true;
      });
    },

    /**
     * Claims up to `limit` events due for delivery by pushing their next attempt `leaseMs` ahead, so a
     * process that dies mid-delivery leaves them to be retried after the lease rather than lost.
     */
    async claimDueDeliveries(limit: number, leaseMs: number): Promise<OutboxDelivery[]> {
      return rows.claimDueDeliveries(limit, leaseMs);
    },

    /** Milliseconds until the next decision or delivery attempt falls due; null when nothing waits. */
    async nextDueInMs(): Promise<number | null> {
      return rows.nextDueInMs();
    },

    async markDelivered(eventId: string): Promise<void> {
      await rows.markDelivered(eventId);
    },

    async markDeliveryFailed(eventId: string, error: string, retryInMs: number): Promise<void> {
      await rows.markDeliveryFailed(eventId, error, retryInMs);
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;
