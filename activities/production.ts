// Production activities: a scheduled run bakes a lot, and the end-of-day run throws out what is left after closing.
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';

export interface ProduceLotInput {
  locationId: string;
  productId: string;
  quantity: number;
}

/** What the lot's timers need; null when the plan points at a product or location that no longer exists. */
export type ProducedLot = { lotId: number; discountAt: string | null; expiresAt: string } | null;

export function createProductionActivities(db: Knex) {
  const { stock } = createRepositories(db);
  return {
    /** Bakes one lot exactly as receiving stock does, so expiry and the end-of-day discount follow the same rules. */
    async produceLot(input: ProduceLotInput): Promise<ProducedLot> {
      const now = new Date();
      // Keyed by the run's workflow: an activity retried after its commit finds the lot it already made.
      const runId = Context.current().info.workflowExecution?.workflowId;
      const sourceKey = runId === undefined ? undefined : `production:${runId}`;
      const result = await stock.receiveLot({ ...input, producedAt: now, sourceKey }, now);
      if (result.status !== 'received') return null;
      return { lotId: result.lot.id, discountAt: result.lot.discountFrom, expiresAt: result.lot.expiresAt };
    },

    /** The end-of-day discard, in batches; each discarded lot is announced on its location's stream. Idempotent. */
    async discardAfterClosing(): Promise<{ lots: number; units: number }> {
      // Unreserved units of lots produced before their location's most recent closing; reserved and sold units stay.
      return stock.discardAfterClosing();
    },
  };
}

export type ProductionActivities = ReturnType<typeof createProductionActivities>;
