// Production activities: a scheduled run bakes a lot, and the end-of-day run throws out what is left after closing.
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { createInventoryRepository } from '../src/db/repositories/inventory.js';
import { appendEvent, streams } from '../src/events/log.js';

export interface ProduceLotInput {
  locationId: string;
  productId: string;
  quantity: number;
}

/** What the lot's timers need; null when the plan points at a product or location that no longer exists. */
export type ProducedLot = { lotId: number; discountAt: string | null; expiresAt: string } | null;

const DISCARD_BATCH = 1_000;

// Unreserved units of lots produced before their location's most recent closing (in the location's own time zone)
// that has already passed. Lots baked after closing, for the next day, are not touched. Reserved and sold units stay.
const DISCARD_AFTER_CLOSING = `
  WITH closing AS (
    SELECT l.id AS location_id,
           (((now() AT TIME ZONE l.timezone)::date + l.closes_at) AT TIME ZONE l.timezone) AS today
    FROM locations l
  ), last_closing AS (
    SELECT location_id,
           CASE WHEN today <= now() THEN today
                ELSE ((((now() AT TIME ZONE l.timezone)::date - 1) + l.closes_at) AT TIME ZONE l.timezone) END AS at
    FROM closing JOIN locations l ON l.id = closing.location_id
  ), due AS (
    SELECT s.id, s.available FROM stock_lots s JOIN last_closing c ON c.location_id = s.location_id
    WHERE s.available > 0 AND s.produced_at < c.at
    ORDER BY s.id LIMIT ? FOR NO KEY UPDATE OF s SKIP LOCKED
  )
  UPDATE stock_lots s SET discarded = s.discarded + s.available, discarded_units = s.discarded_units + s.free_units,
         available = 0, free_units = '{}'
  FROM due WHERE s.id = due.id
  RETURNING s.id, s.location_id, s.product_id, due.available AS units`;

export function createProductionActivities(db: Knex) {
  const inventory = createInventoryRepository(db);
  return {
    /** Bakes one lot exactly as receiving stock does, so expiry and the end-of-day discount follow the same rules. */
    async produceLot(input: ProduceLotInput): Promise<ProducedLot> {
      const now = new Date();
      // Keyed by the run's workflow: an activity retried after its commit finds the lot it already made.
      const runId = Context.current().info.workflowExecution?.workflowId;
      const sourceKey = runId === undefined ? undefined : `production:${runId}`;
      const result = await db.transaction((trx) => inventory.receiveLot({ ...input, producedAt: now, sourceKey }, now, trx));
      if (result.status !== 'received') return null;
      return { lotId: result.lot.id, discountAt: result.lot.discountFrom, expiresAt: result.lot.expiresAt };
    },

    /** The end-of-day discard, in batches; each discarded lot is announced on its location's stream. Idempotent. */
    async discardAfterClosing(): Promise<{ lots: number; units: number }> {
      let lots = 0;
      let units = 0;
      for (;;) {
        const rows = await db.transaction(async (trx) => {
          const { rows } = await trx.raw<{ rows: { id: number; location_id: string; product_id: string; units: number }[] }>(DISCARD_AFTER_CLOSING, [DISCARD_BATCH]);
          for (const r of rows) {
            await appendEvent(trx, streams.location(r.location_id), 'stock.discarded', { lotId: Number(r.id), productId: r.product_id, units: r.units, reason: 'closing' });
          }
          return rows;
        });
        lots += rows.length;
        units += rows.reduce((sum, r) => sum + r.units, 0);
        if (rows.length < DISCARD_BATCH) return { lots, units };
      }
    },
  };
}

export type ProductionActivities = ReturnType<typeof createProductionActivities>;
