// Stock activities for the order saga and the lot timers: reserve concrete units all-or-nothing, release, commit, discount, discard.
//
// Locking: a reservation first claims the order's row in stock_reservations (a retry of the same order waits there,
// then reads the answer), then locks every candidate lot it may take from in lot id order. Release and commit lock
// the order's row, then its lots in the same id order, so no two transactions ever wait on each other in a cycle.
// Lots are locked without SKIP LOCKED: a buyer waits for a busy lot rather than wrongly answering "out of stock".
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { appendEvent, streams } from '../src/events/log.js';
import { priceInEffectCents } from '../src/domain/pricing.js';
import { allocateOldestFirst, formatUnitRanges, lowestUnits, parseUnitRanges } from '../src/domain/stock.js';

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface ReserveStockInput {
  orderId: string;
  locationId: string;
  lines: StockLine[];
  /** ISO UTC; lots that expire before it are never chosen. */
  deliverBy: string;
}

export interface ReservedLine {
  productId: string;
  quantity: number;
  /** The exact money for the line: the sum of each reserved unit's price in effect. */
  amountCents: number;
}

export type ReserveStockResult =
  | { status: 'reserved'; lines: ReservedLine[] }
  | { status: 'out_of_stock'; productIds: string[] };

export interface DiscountLotResult {
  lotId: number;
  /** Null when the lot does not exist. */
  discountFrom: string | null;
}

export interface DiscardLotResult {
  lotId: number;
  discardedUnits: number;
}

/** Failure types callers can match on; all are non-retryable because a retry would meet the same state. */
export const STOCK_FAILURES = {
  invalidInput: 'InvalidStockRequest',
  released: 'StockAlreadyReleased',
  mismatch: 'ReservationMismatch',
  nothingToCommit: 'NothingToCommit',
} as const;

/** More units than any one order line may ask for; the API enforces a far lower limit. */
const MAX_LINE_QUANTITY = 1_000_000;
const DISCARD_BATCH = 1_000;

interface LockedLot {
  id: number;
  product_id: string;
  produced_at: Date;
  expires_at: Date;
  available: number;
  free_units: string;
  discount_from: Date | null;
  price_cents: number;
  eod_discount_percent: number;
}

function refuse(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function validate(input: ReserveStockInput): Date {
  const deliverBy = new Date(input.deliverBy);
  if (Number.isNaN(deliverBy.getTime())) throw refuse(STOCK_FAILURES.invalidInput, `deliverBy "${input.deliverBy}" is not a date`);
  if (input.lines.length === 0) throw refuse(STOCK_FAILURES.invalidInput, 'An order needs at least one line');
  const seen = new Set<string>();
  for (const line of input.lines) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_LINE_QUANTITY) {
      throw refuse(STOCK_FAILURES.invalidInput, `Quantity ${line.quantity} of product ${line.productId} is not a positive whole number of units`);
    }
    if (seen.has(line.productId)) throw refuse(STOCK_FAILURES.invalidInput, `Product ${line.productId} appears on two lines`);
    seen.add(line.productId);
  }
  return deliverBy;
}

/** The lines an order already holds, in the order it asked for them. */
async function heldLines(trx: Knex.Transaction, input: ReserveStockInput): Promise<ReservedLine[]> {
  const rows = await trx('stock_allocations')
    .where({ order_id: input.orderId })
    .whereIn('state', ['reserved', 'sold'])
    .groupBy('product_id')
    .select<{ product_id: string; quantity: number; amount_cents: number }[]>(
      'product_id',
      trx.raw('sum(quantity)::int AS quantity'),
      trx.raw('sum(quantity * unit_price_cents)::bigint AS amount_cents'),
    );
  const byProduct = new Map(rows.map((r) => [r.product_id, r]));
  const lines = input.lines.map((line) => ({ productId: line.productId, quantity: byProduct.get(line.productId)?.quantity ?? 0, amountCents: byProduct.get(line.productId)?.amount_cents ?? 0 }));
  const matches = rows.length === input.lines.length && lines.every((l, i) => l.quantity === input.lines[i]!.quantity);
  if (!matches) throw refuse(STOCK_FAILURES.mismatch, `Order ${input.orderId} already holds different stock than this request asks for`);
  return lines;
}

export function createInventoryActivities(db: Knex) {
  return {
    /**
     * Reserves every line or nothing, oldest fresh lot first, never from a lot that expires before deliverBy.
     * Calling it again for the same order returns the same reservation and reserves nothing more.
     */
    async reserveStock(input: ReserveStockInput): Promise<ReserveStockResult> {
      const deliverBy = validate(input);
      return db.transaction(async (trx) => {
        const claimed = await trx('stock_reservations')
          .insert({ order_id: input.orderId, location_id: input.locationId, deliver_by: deliverBy, status: 'reserved' })
          .onConflict('order_id')
          .ignore()
          .returning('order_id');
        if (claimed.length === 0) {
          // A retry: the first attempt has committed (a concurrent one made this insert wait), so answer as it did.
          const previous = await trx('stock_reservations').where({ order_id: input.orderId }).first<{ status: string; out_of_stock_product_ids: string[] }>('status', 'out_of_stock_product_ids');
          if (previous.status === 'out_of_stock') return { status: 'out_of_stock', productIds: previous.out_of_stock_product_ids };
          if (previous.status === 'released') throw refuse(STOCK_FAILURES.released, `Stock for order ${input.orderId} was already released`);
          return { status: 'reserved', lines: await heldLines(trx, input) };
        }

        const now = new Date();
        const freshAt = new Date(Math.max(now.getTime(), deliverBy.getTime()));
        const productIds = input.lines.map((l) => l.productId);
        const { rows: lots } = await trx.raw<{ rows: LockedLot[] }>(
          `SELECT s.id, s.product_id, s.produced_at, s.expires_at, s.available, s.free_units::text AS free_units, s.discount_from,
                  p.price_cents, p.eod_discount_percent
           FROM stock_lots s JOIN products p ON p.id = s.product_id
           WHERE s.location_id = ? AND s.product_id = ANY(?::uuid[]) AND s.available > 0 AND s.expires_at > ?
           ORDER BY s.id
           FOR NO KEY UPDATE OF s`,
          [input.locationId, productIds, freshAt],
        );

        const plan = input.lines.map((line) => ({
          line,
          taken: allocateOldestFirst(
            lots.filter((l) => l.product_id === line.productId).map((l) => ({ ...l, producedAt: l.produced_at, expiresAt: l.expires_at })),
            line.quantity,
            freshAt,
          ),
        }));
        const short = plan.filter((p) => p.taken === null).map((p) => p.line.productId);
        if (short.length > 0) {
          await trx('stock_reservations').where({ order_id: input.orderId }).update({ status: 'out_of_stock', out_of_stock_product_ids: short, updated_at: now });
          return { status: 'out_of_stock', productIds: short };
        }

        const allocations = plan.flatMap(({ taken }) =>
          taken!.map(({ lot, quantity }) => ({
            lotId: lot.id,
            productId: lot.product_id,
            units: formatUnitRanges(lowestUnits(parseUnitRanges(lot.free_units), quantity)),
            quantity,
            unitPriceCents: priceInEffectCents({ priceCents: lot.price_cents, eodDiscountPercent: lot.eod_discount_percent }, lot.discount_from, now),
          })),
        );
        const { rows: applied } = await trx.raw<{ rows: { lot_id: number }[] }>(
          `WITH taken AS (
             SELECT * FROM unnest(?::bigint[], ?::uuid[], ?::int4multirange[], ?::int[], ?::int[]) WITH ORDINALITY
               AS t(lot_id, product_id, units, quantity, unit_price_cents, position)
           ), lots AS (
             UPDATE stock_lots s
             SET available = s.available - t.quantity, reserved = s.reserved + t.quantity, free_units = s.free_units - t.units
             FROM taken t
             WHERE s.id = t.lot_id AND s.free_units @> t.units
             RETURNING s.id
           )
           INSERT INTO stock_allocations (order_id, lot_id, product_id, units, quantity, unit_price_cents, state)
           SELECT ?, t.lot_id, t.product_id, t.units, t.quantity, t.unit_price_cents, 'reserved'
           FROM taken t JOIN lots ON lots.id = t.lot_id
           ORDER BY t.position
           RETURNING lot_id`,
          [
            allocations.map((a) => a.lotId),
            allocations.map((a) => a.productId),
            allocations.map((a) => a.units),
            allocations.map((a) => a.quantity),
            allocations.map((a) => a.unitPriceCents),
            input.orderId,
          ],
        );
        // The lots are locked, so their free units cannot have changed since we read them.
        if (applied.length !== allocations.length) throw new Error(`Order ${input.orderId}: ${allocations.length - applied.length} lots changed under their lock`);

        return {
          status: 'reserved',
          lines: plan.map(({ line }) => ({
            productId: line.productId,
            quantity: line.quantity,
            amountCents: allocations.filter((a) => a.productId === line.productId).reduce((sum, a) => sum + a.quantity * a.unitPriceCents, 0),
          })),
        };
      });
    },

    /**
     * Returns the order's reserved units to their lots (or to the discard pile when the lot has expired meanwhile).
     * Idempotent; sold units stay sold; a release that arrives first leaves a mark so a late reservation holds nothing.
     */
    async releaseStock(orderId: string): Promise<void> {
      await db.transaction(async (trx) => {
        // Lock the order's row, or create the tombstone, in one statement.
        const { rows } = await trx.raw<{ rows: { status: string; created: boolean }[] }>(
          `INSERT INTO stock_reservations (order_id, status) VALUES (?, 'released')
           ON CONFLICT (order_id) DO UPDATE SET updated_at = stock_reservations.updated_at
           RETURNING status, (xmax = 0) AS created`,
          [orderId],
        );
        const reservation = rows[0]!;
        if (reservation.created || reservation.status !== 'reserved') return;

        const now = new Date();
        const allocations = await trx('stock_allocations')
          .where({ order_id: orderId, state: 'reserved' })
          .select<{ lot_id: number }[]>('lot_id');
        await trx.raw(`SELECT id FROM stock_lots WHERE id = ANY(?::bigint[]) ORDER BY id FOR NO KEY UPDATE`, [allocations.map((a) => a.lot_id)]);
        await trx.raw(
          `WITH back AS (
             UPDATE stock_allocations SET state = 'released' WHERE order_id = ? AND state = 'reserved'
             RETURNING lot_id, units, quantity
           ), per_lot AS (
             SELECT lot_id, range_agg(u) AS units, sum(quantity)::int AS quantity
             FROM back, unnest(units) AS u GROUP BY lot_id
           )
           UPDATE stock_lots s SET
             reserved = s.reserved - b.quantity,
             available = CASE WHEN s.expires_at > ? THEN s.available + b.quantity ELSE s.available END,
             free_units = CASE WHEN s.expires_at > ? THEN s.free_units + b.units ELSE s.free_units END,
             discarded = CASE WHEN s.expires_at > ? THEN s.discarded ELSE s.discarded + b.quantity END,
             discarded_units = CASE WHEN s.expires_at > ? THEN s.discarded_units ELSE s.discarded_units + b.units END
           FROM per_lot b WHERE s.id = b.lot_id`,
          [orderId, now, now, now, now],
        );
        await trx('stock_reservations').where({ order_id: orderId }).update({ status: 'released', updated_at: now });
      });
    },

    /** Turns the order's reserved units into sold ones. Idempotent; refuses an order whose stock is not held. */
    async commitStock(orderId: string): Promise<void> {
      await db.transaction(async (trx) => {
        const reservation = await trx('stock_reservations').where({ order_id: orderId }).forUpdate().first<{ status: string } | undefined>('status');
        if (reservation?.status === 'committed') return;
        if (reservation?.status !== 'reserved') {
          throw refuse(STOCK_FAILURES.nothingToCommit, `Order ${orderId} holds no stock to commit (${reservation?.status ?? 'never reserved'})`);
        }
        const allocations = await trx('stock_allocations')
          .where({ order_id: orderId, state: 'reserved' })
          .select<{ lot_id: number }[]>('lot_id');
        await trx.raw(`SELECT id FROM stock_lots WHERE id = ANY(?::bigint[]) ORDER BY id FOR NO KEY UPDATE`, [allocations.map((a) => a.lot_id)]);
        await trx.raw(
          `WITH sold AS (
             UPDATE stock_allocations SET state = 'sold' WHERE order_id = ? AND state = 'reserved'
             RETURNING lot_id, quantity
           ), per_lot AS (
             SELECT lot_id, sum(quantity)::int AS quantity FROM sold GROUP BY lot_id
           )
           UPDATE stock_lots s SET reserved = s.reserved - b.quantity, sold = s.sold + b.quantity
           FROM per_lot b WHERE s.id = b.lot_id`,
          [orderId],
        );
        await trx('stock_reservations').where({ order_id: orderId }).update({ status: 'committed', updated_at: new Date() });
      });
    },

    /**
     * Puts a lot on its end-of-day discount now, unless it already is; the lot timer calls this when the window opens.
     * Units already reserved keep the price they were reserved at.
     */
    async discountLot(lotId: number): Promise<DiscountLotResult> {
      return db.transaction(async (trx) => {
        const now = new Date();
        const [changed] = await trx('stock_lots')
          .where({ id: lotId })
          .andWhere((q) => q.whereNull('discount_from').orWhere('discount_from', '>', now))
          .update({ discount_from: now })
          .returning<{ location_id: string; product_id: string }[]>(['location_id', 'product_id']);
        if (changed) {
          await appendEvent(trx, streams.location(changed.location_id), 'stock.discounted', { lotId, productId: changed.product_id, discountFrom: now.toISOString() });
        }
        const lot = await trx('stock_lots').where({ id: lotId }).first<{ discount_from: Date | null } | undefined>('discount_from');
        return { lotId, discountFrom: lot?.discount_from?.toISOString() ?? null };
      });
    },

    /** Discards the unreserved units of an expired lot; reserved and sold units are the orders' and stay. Idempotent. */
    async discardExpiredLot(lotId: number): Promise<DiscardLotResult> {
      return db.transaction(async (trx) => {
        const [lot] = await trx.raw<{ rows: { location_id: string; product_id: string; units: number }[] }>(
          `UPDATE stock_lots s SET discarded = s.discarded + s.available, discarded_units = s.discarded_units + s.free_units,
                  available = 0, free_units = '{}'
           FROM (SELECT id, available FROM stock_lots WHERE id = ? FOR NO KEY UPDATE) before
           WHERE s.id = before.id AND s.expires_at <= now() AND s.available > 0
           RETURNING s.location_id, s.product_id, before.available AS units`,
          [lotId],
        ).then((r) => r.rows);
        if (!lot) return { lotId, discardedUnits: 0 };
        await appendEvent(trx, streams.location(lot.location_id), 'stock.discarded', { lotId, productId: lot.product_id, units: lot.units });
        return { lotId, discardedUnits: lot.units };
      });
    },

    /** The stale sweep: discards the unreserved units of every expired lot, in batches that skip lots busy elsewhere. */
    async discardExpiredStock(): Promise<{ lots: number; units: number }> {
      let lots = 0;
      let units = 0;
      for (;;) {
        const { rows } = await db.raw<{ rows: { units: number }[] }>(
          `WITH due AS (
             SELECT id, available FROM stock_lots WHERE expires_at <= now() AND available > 0
             ORDER BY id LIMIT ? FOR NO KEY UPDATE SKIP LOCKED
           )
           UPDATE stock_lots s SET discarded = s.discarded + s.available, discarded_units = s.discarded_units + s.free_units,
                  available = 0, free_units = '{}'
           FROM due WHERE s.id = due.id
           RETURNING due.available AS units`,
          [DISCARD_BATCH],
        );
        lots += rows.length;
        units += rows.reduce((sum, r) => sum + r.units, 0);
        if (rows.length < DISCARD_BATCH) return { lots, units };
      }
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
