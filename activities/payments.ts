// Payment activities: ask the bank for a charge, and undo it (void if pending, refund if captured).
import { ApplicationFailure } from '@temporalio/activity';
import type { BankClient } from '../src/bank/client.js';
import { timeBankRequest } from '../src/metrics/bank.js';
import { logOrder } from './log.js';

/** The idempotency key of an order's charge at the bank: one charge per order, however often it is requested. */
export const chargeKey = (orderId: string) => `order-${orderId}`;

export function createPaymentActivities(bank: BankClient) {
  return {
    /** Idempotent through the bank's idempotency key: a retry returns the same charge. */
    async requestCharge(input: {
      orderId: string;
      accountId: string;
      amountCents: number;
    }): Promise<{ chargeId: string }> {
      try {
        const charge = await timeBankRequest('requestCharge', () =>
          bank.requestCharge({
            idempotencyKey: chargeKey(input.orderId),
            accountId: input.accountId,
            amountCents: input.amountCents,
            reference: input.orderId,
          }),
        );
        logOrder('info', input.orderId, 'bank charge requested', {
          chargeId: charge.chargeId,
          amountCents: input.amountCents,
        });
        return { chargeId: charge.chargeId };
      } catch (err) {
        logOrder('warn', input.orderId, 'bank charge request failed', { error: (err as Error).message });
        throw asFailure(err);
      }
    },

    async voidCharge(input: { chargeId: string }): Promise<void> {
      try {
        const charge = await timeBankRequest('voidCharge', () => bank.voidCharge(input.chargeId));
        // The bank's reference is our order id, so this line joins the order's trail.
        logOrder('info', charge.reference, 'bank charge voided or refunded', {
          chargeId: input.chargeId,
          chargeStatus: charge.status,
        });
      } catch (err) {
        throw asFailure(err);
      }
    },
  };
}

/** The bank refusing the request itself (4xx) will not change on retry; anything else might. */
function asFailure(err: unknown): unknown {
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return ApplicationFailure.nonRetryable((err as Error).message, 'BankRequestRefused');
  }
  return err;
}
