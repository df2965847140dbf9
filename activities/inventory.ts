// Stock activities for the order saga and the lot timers: reserve concrete units all-or-nothing, release, commit, discount, discard.
//
// Reserving: read the fresh lots without locking, plan oldest-first in TypeScript, then apply the plan in one
// statement that claims the order, locks the planned lots in lot id order, checks each still holds the planned
// units at the planned price, and takes its lowest free units. If another order got there first the statement
// aborts as a whole and the reservation re-plans from a fresh read, so buyers never wait on each other across a
// network round trip and never see "out of stock" while the units they need are free.
// The claim is the order's row in stock_reservations: a retry of the same order finds it (or waits on it while the
// first attempt commits) and answers as the first attempt did.
// Release and commit lock the order's row, then its lots in the same id order, so no two transactions wait in a cycle.
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { appendEvent, streams } from '../src/events/log.js';
import { isDiscountedAt, priceInEffectCents } from '../src/domain/pricing.js';
import { allocateOldestFirst } from '../src/domain/stock.js';

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

interface CandidateLotRow {
  claim: string | null;
  /** Null on the single row that says there are no lots. */
  id: number | null;
  product_id: string;
  produced_at: Date;
  expires_at: Date;
  available: number;
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

// The order's claim if it has one; otherwise every fresh lot its products have at the location, as committed now.
// One snapshot for both: a claim not yet visible means the units it holds still look free.
const CLAIM_OR_CANDIDATE_LOTS = `
  SELECT r.status AS claim, s.*
  FROM (SELECT 1) AS one
  LEFT JOIN stock_reservations r ON r.order_id = ?
  LEFT JOIN LATERAL (
    SELECT s.id, s.product_id, s.produced_at, s.expires_at, s.available, s.discount_from, p.price_cents, p.eod_discount_percent
    FROM stock_lots s JOIN products p ON p.id = s.product_id
    WHERE s.location_id = ? AND s.product_id = ANY(?::uuid[]) AND s.available > 0 AND s.expires_at > ?
  ) s ON r.order_id IS NULL`;

// Claims the order and, only when this call created the claim, takes the planned units. `stale` aborts the whole
// statement when a planned lot no longer has the units, or its discount started since it was read.
const CLAIM_AND_TAKE = `
  WITH claim AS (
    INSERT INTO stock_reservations (order_id, location_id, deliver_by, status, out_of_stock_product_ids)
    VALUES (?, ?, ?, ?, ?::uuid[])
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
  ), planned AS (
    SELECT * FROM unnest(?::bigint[], ?::uuid[], ?::int[], ?::int[], ?::boolean[]) WITH ORDINALITY
      AS t(lot_id, product_id, quantity, unit_price_cents, discounted, position)
    WHERE EXISTS (SELECT 1 FROM claim)
  ), locked AS (
    SELECT s.id, s.free_units FROM stock_lots s JOIN planned t ON t.lot_id = s.id
    WHERE s.available >= t.quantity AND coalesce(s.discount_from <= ?, false) = t.discounted
    ORDER BY s.id
    FOR NO KEY UPDATE OF s
  ), taken AS (
    SELECT t.*, stock_lowest_units(l.free_units, t.quantity) AS units FROM planned t JOIN locked l ON l.id = t.lot_id
  ), lots AS (
    UPDATE stock_lots s
    SET available = s.available - t.quantity, reserved = s.reserved + t.quantity, free_units = s.free_units - t.units
    FROM taken t WHERE s.id = t.lot_id
    RETURNING s.id
  ), allocations AS (
    INSERT INTO stock_allocations (order_id, lot_id, product_id, units, quantity, unit_price_cents, state)
    SELECT claim.order_id, t.lot_id, t.product_id, t.units, t.quantity, t.unit_price_cents, 'reserved'
    FROM taken t CROSS JOIN claim
    ORDER BY t.position
    RETURNING lot_id
  )
  SELECT EXISTS (SELECT 1 FROM claim) AS claimed,
         CASE WHEN (SELECT count(*) FROM lots) < (SELECT count(*) FROM planned) THEN stock_plan_is_stale() ELSE false END AS stale`;

/** Postgres error code raised by stock_plan_is_stale(). */
const STALE_PLAN = 'SR001';
/** Each re-plan means another order took units meanwhile; this many in a row means something is wrong. */
const MAX_PLANS = 100;

/** A retry's answer: what the first call for this order decided. */
async function previousAnswer(trx: Knex.Transaction, input: ReserveStockInput): Promise<ReserveStockResult> {
  const previous = await trx('stock_reservations').where({ order_id: input.orderId }).first<{ status: string; out_of_stock_product_ids: string[] }>('status', 'out_of_stock_product_ids');
  if (previous.status === 'out_of_stock') return { status: 'out_of_stock', productIds: previous.out_of_stock_product_ids };
  if (previous.status === 'released') throw refuse(STOCK_FAILURES.released, `Stock for order ${input.orderId} was already released`);
  return { status: 'reserved', lines: await heldLines(trx, input) };
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

/** Locks the lots the order holds units of, in lot id order, the order every stock transaction locks lots in. */
async function lockHeldLots(trx: Knex.Transaction, orderId: string): Promise<void> {
  const allocations = await trx('stock_allocations')
    .where({ order_id: orderId, state: 'reserved' })
    .select<{ lot_id: number }[]>('lot_id');
  await trx.raw(`SELECT id FROM stock_lots WHERE id = ANY(?::bigint[]) ORDER BY id FOR NO KEY UPDATE`, [allocations.map((a) => a.lot_id)]);
}

/** Sells the order's reserved units for good inside `trx`; committing twice changes nothing. */
export async function commitOrderStock(trx: Knex.Transaction, orderId: string): Promise<void> {
  const reservation = await trx('stock_reservations').where({ order_id: orderId }).forUpdate().first<{ status: string } | undefined>('status');
  if (reservation?.status === 'committed') return;
  if (reservation?.status !== 'reserved') {
    throw refuse(STOCK_FAILURES.nothingToCommit, `Order ${orderId} holds no stock to commit (${reservation?.status ?? 'never reserved'})`);
  }
  await lockHeldLots(trx, orderId);
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
}

export function createInventoryActivities(db: Knex) {
  return {
    /**
     * Reserves every line or nothing, oldest fresh lot first, never from a lot that expires before deliverBy.
     * Calling it again for the same order returns the same reservation and reserves nothing more.
     */
    async reserveStock(input: ReserveStockInput): Promise<ReserveStockResult> {
      const deliverBy = validate(input);
      const productIds = input.lines.map((l) => l.productId);
      for (let attempt = 1; ; attempt++) {
        const now = new Date();
        const freshAt = new Date(Math.max(now.getTime(), deliverBy.getTime()));
        const { rows } = await db.raw<{ rows: CandidateLotRow[] }>(CLAIM_OR_CANDIDATE_LOTS, [input.orderId, input.locationId, productIds, freshAt]).options({ name: 'claim_or_candidate_lots' });
        // A retry, or a release that came first: answer from what is recorded.
        if (rows[0]?.claim) return db.transaction((trx) => previousAnswer(trx, input));
        const lots = rows.filter((r): r is CandidateLotRow & { id: number } => r.id !== null);

        const plan = input.lines.map((line) => ({
          line,
          taken: allocateOldestFirst(
            lots.filter((l) => l.product_id === line.productId).map((l) => ({ ...l, producedAt: l.produced_at, expiresAt: l.expires_at })),
            line.quantity,
            freshAt,
          ),
        }));
        const short = plan.filter((p) => p.taken === null).map((p) => p.line.productId);
        // Out of stock needs no record: nothing is held, and an earlier attempt of this order that holds units would
        // show in the snapshot, as its claim or as those units still free. Only when "now" (not deliverBy) decided
        // freshness could a retry see fewer fresh lots than the attempt before it, so then the answer is recorded.
        if (short.length > 0 && freshAt.getTime() === deliverBy.getTime()) return { status: 'out_of_stock', productIds: short };
        const takes = short.length > 0 ? [] : plan.flatMap(({ taken }) => taken!.map(({ lot, quantity }) => ({
          lotId: lot.id,
          productId: lot.product_id,
          quantity,
          unitPriceCents: priceInEffectCents({ priceCents: lot.price_cents, eodDiscountPercent: lot.eod_discount_percent }, lot.discount_from, now),
          discounted: isDiscountedAt(lot.discount_from, now),
        })));

        let claimed: boolean;
        try {
          const { rows } = await db.raw<{ rows: { claimed: boolean }[] }>(CLAIM_AND_TAKE, [
            input.orderId,
            input.locationId,
            deliverBy,
            short.length > 0 ? 'out_of_stock' : 'reserved',
            short,
            takes.map((t) => t.lotId),
            takes.map((t) => t.productId),
            takes.map((t) => t.quantity),
            takes.map((t) => t.unitPriceCents),
            takes.map((t) => t.discounted),
            now,
          ]).options({ name: 'claim_and_take' });
          claimed = rows[0]!.claimed;
        } catch (err) {
          if ((err as { code?: string }).code === STALE_PLAN && attempt < MAX_PLANS) continue;
          throw err;
        }
        if (!claimed) return db.transaction((trx) => previousAnswer(trx, input));
        if (short.length > 0) return { status: 'out_of_stock', productIds: short };
        return {
          status: 'reserved',
          lines: input.lines.map((line) => {
            const mine = takes.filter((t) => t.productId === line.productId);
            return { productId: line.productId, quantity: line.quantity, amountCents: mine.reduce((sum, t) => sum + t.quantity * t.unitPriceCents, 0) };
          }),
        };
      }
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
        await lockHeldLots(trx, orderId);
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
      await db.transaction((trx) => commitOrderStock(trx, orderId));
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
        const lot = await trx('stock_lots').where({ id: lotId }).first<{ discount_from: Date | null; location_id: string; product_id: string; available: number } | undefined>('discount_from', 'location_id', 'product_id', 'available');
        // Lots are received with their discount time already set, so the price changes by itself; the lot timer's call
        // at that moment is what tells the live views, as long as there is something left to sell at the new price.
        if (!changed && lot?.discount_from && lot.discount_from <= now && lot.available > 0) {
          await appendEvent(trx, streams.location(lot.location_id), 'stock.discounted', { lotId, productId: lot.product_id, discountFrom: lot.discount_from.toISOString() });
        }
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
        // Each discard is announced in the same transaction, so live views drop the units the moment they go.
        const rows = await db.transaction(async (trx) => {
          const { rows } = await trx.raw<{ rows: { id: number; location_id: string; product_id: string; units: number }[] }>(
            `WITH due AS (
               SELECT id, available FROM stock_lots WHERE expires_at <= now() AND available > 0
               ORDER BY id LIMIT ? FOR NO KEY UPDATE SKIP LOCKED
             )
             UPDATE stock_lots s SET discarded = s.discarded + s.available, discarded_units = s.discarded_units + s.free_units,
                    available = 0, free_units = '{}'
             FROM due WHERE s.id = due.id
             RETURNING s.id, s.location_id, s.product_id, due.available AS units`,
            [DISCARD_BATCH],
          );
          for (const r of rows) {
            await appendEvent(trx, streams.location(r.location_id), 'stock.discarded', { lotId: r.id, productId: r.product_id, units: r.units });
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

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
