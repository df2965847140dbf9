// Stock: the one writer of stock_lots, stock_reservations, stock_allocations and lot_idempotency_keys. Lots are
// received, discounted and discarded here; an order's units are taken, given back and sold here, every change of a
// lot's counters together with its unit ranges. The statements' texts are in stock-statements.ts, receiving in
// stock-receiving.ts, a shop's own discards in stock-discarding.ts.
//
// Locking order, which every statement here keeps so no two transactions wait on each other in a cycle: an order's
// stock_reservations row first (its claim), then its lots in lot id order.
import type { Knex } from 'knex';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { queryPrepared } from '../prepared.js';
import { appendEvent } from './events.js';
import { discardUnitsIn, type DiscardUnitsResult } from './stock-discarding.js';
import { lotsAt } from './stock-listing.js';
import { receiveLotIn } from './stock-receiving.js';
import {
  DISCARD_BATCH,
  DUE_AFTER_CLOSING,
  DUE_EXPIRED,
  DUE_EXPIRED_LOT,
  discardDue,
  GIVE_BACK_RESERVED,
  LOCK_LOTS,
  RELEASE_OR_TOMBSTONE,
  SELL_RESERVED,
} from './stock-statements.js';

import {
  LOT_COLUMNS,
  lotView,
  type DiscardReason,
  type LotIdempotencyKey,
  type LotRow,
  type LotView,
  type ReceiveLotInput,
  type ReceiveLotOnceResult,
  type ReceiveLotResult,
} from './stock-views.js';

export type {
  DiscardUnitsResult,
  DiscardReason,
  LotIdempotencyKey,
  LotView,
  ReceiveLotInput,
  ReceiveLotOnceResult,
  ReceiveLotResult,
};

/** One call of stock_reserve() (migration 025): a claim, its lines, or the products it lacked. */
const RESERVE =
  'SELECT * FROM stock_reserve(:order, :location, :deliverBy, :freshAt, :now, CAST(:products AS uuid[]), CAST(:quantities AS integer[]), :recordShort)';

interface ReserveRow {
  claimed: boolean;
  short: string[] | null;
  product_id: string | null;
  quantity: number | null;
  amount_cents: string | null;
  left_units: string | null;
}

/** Thrown inside the receiving transaction when a racing request claimed the key first, so the lot rolls back. */
class KeyClaimedMeanwhile extends Error {}

export function createStockLotRepository(db: Knex) {
  /** Discards the unreserved units of the lots `due` selects and announces each discard in the same transaction. */
  async function discard(
    due: string,
    bindings: Knex.RawBinding[],
    reason: DiscardReason,
  ): Promise<{ id: number; units: number }[]> {
    return atomic(db, async (trx) => {
      const { rows } = await trx.raw<{
        rows: { id: number; location_id: string; product_id: string; units: number }[];
      }>(discardDue(due), bindings);
      for (const r of rows) {
        await appendEvent(trx, streams.location(r.location_id), 'stock.discarded', {
          lotId: Number(r.id),
          productId: r.product_id,
          units: r.units,
          ...(reason === 'closing' ? { reason } : {}),
        });
      }
      return rows.map((r) => ({ id: Number(r.id), units: r.units }));
    });
  }

  /** Discards in batches of DISCARD_BATCH until a batch comes back short; each batch is its own transaction. */
  async function discardInBatches(due: string, reason: DiscardReason): Promise<{ lots: number; units: number }> {
    let lots = 0;
    let units = 0;
    for (;;) {
      const rows = await discard(due, [DISCARD_BATCH], reason);
      lots += rows.length;
      units += rows.reduce((sum, r) => sum + r.units, 0);
      if (rows.length < DISCARD_BATCH) return { lots, units };
    }
  }

  const repository = {
    /** Receives one lot (see receiveLotIn in stock-receiving.ts), in the caller's transaction or its own. */
    async receiveLot(input: ReceiveLotInput, now: Date): Promise<ReceiveLotResult> {
      return atomic(db, (trx) => receiveLotIn(trx, input, now));
    },

    /**
     * Receives a lot under the caller's Idempotency-Key. The key is stored in the lot's own transaction and is unique
     * per caller, so a retry, even one racing the first request, finds the lot already received instead of making a
     * second; the same key with another request is refused. A refused lot claims no key.
     */
    async receiveLotOnce(
      idempotency: LotIdempotencyKey,
      input: Omit<ReceiveLotInput, 'sourceKey'>,
      now: Date,
    ): Promise<ReceiveLotOnceResult> {
      const earlier = async (): Promise<ReceiveLotOnceResult | undefined> => {
        const row = await db('lot_idempotency_keys as k')
          .join('stock_lots as s', 's.id', 'k.lot_id')
          .where({ 'k.user_id': idempotency.userId, 'k.key': idempotency.key })
          .first<(LotRow & { request_hash: string }) | undefined>([
            'k.request_hash',
            ...LOT_COLUMNS.map((c) => `s.${c}`),
          ]);
        if (!row) return undefined;
        return row.request_hash === idempotency.requestHash
          ? { status: 'replayed', lot: lotView(row) }
          : { status: 'idempotency_key_reused' };
      };

      const before = await earlier();
      if (before) return before;
      try {
        return await db.transaction(async (trx) => {
          const result = await receiveLotIn(trx, input, now);
          if (result.status !== 'received') return result;
          // Waits for a racing request that holds the same key until it commits (then claims nothing) or rolls back.
          const claimed = await trx('lot_idempotency_keys')
            .insert({
              user_id: idempotency.userId,
              key: idempotency.key,
              request_hash: idempotency.requestHash,
              lot_id: result.lot.id,
            })
            .onConflict(['user_id', 'key'])
            .ignore()
            .returning('key');
          if (claimed.length === 0) throw new KeyClaimedMeanwhile();
          return result;
        });
      } catch (err) {
        if (!(err instanceof KeyClaimedMeanwhile)) throw err;
      }
      const raced = await earlier();
      if (!raced)
        throw new Error(
          `Idempotency-Key ${idempotency.key} of user ${idempotency.userId} vanished after a conflicting insert`,
        );
      return raced;
    },

    /** One page of a location's lots, newest first. */
    lotsAt: (opts: Parameters<typeof lotsAt>[1]) => lotsAt(db, opts),

    /** Available units per product at one location that are still fresh at `at`. */
    async freshUnits(locationId: string, productIds: string[], at: Date): Promise<Map<string, number>> {
      const rows = await db('stock_lots')
        .where({ location_id: locationId })
        .whereIn('product_id', productIds)
        .andWhere('available', '>', 0)
        .andWhere('expires_at', '>', at)
        .groupBy('product_id')
        .select<{ product_id: string; units: number }[]>('product_id', db.raw('sum(available)::int AS units'));
      return new Map(rows.map((r) => [r.product_id, r.units]));
    },

    /**
     * Receives a fresh lot of each product that has fewer than `minimumUnits` units still fresh two hours from now,
     * so a location always has something to sell (the demo seed calls this on every start).
     */
    async topUpFreshStock(
      locationId: string,
      productIds: string[],
      now: Date,
      opts = { minimumUnits: 50, lotSize: 100 },
    ): Promise<LotView[]> {
      const soon = new Date(now.getTime() + 2 * 3_600_000);
      const fresh = await repository.freshUnits(locationId, productIds, soon);
      const received: LotView[] = [];
      for (const productId of productIds) {
        if ((fresh.get(productId) ?? 0) >= opts.minimumUnits) continue;
        const result = await repository.receiveLot({ locationId, productId, quantity: opts.lotSize }, now);
        if (result.status === 'received') received.push(result.lot);
      }
      return received;
    },

    /**
     * Puts a lot on its end-of-day discount now, unless it already is, and tells the live views. Units already
     * reserved keep the price they were reserved at. Null when the lot does not exist.
     */
    async discountLot(lotId: number, now: Date): Promise<{ discountFrom: string | null }> {
      return atomic(db, async (trx) => {
        const [changed] = await trx('stock_lots')
          .where({ id: lotId })
          .andWhere((q) => q.whereNull('discount_from').orWhere('discount_from', '>', now))
          .update({ discount_from: now })
          .returning<{ location_id: string; product_id: string }[]>(['location_id', 'product_id']);
        if (changed) {
          await appendEvent(trx, streams.location(changed.location_id), 'stock.discounted', {
            lotId,
            productId: changed.product_id,
            discountFrom: now.toISOString(),
          });
        }
        const lot = await trx('stock_lots')
          .where({ id: lotId })
          .first<
            { discount_from: Date | null; location_id: string; product_id: string; available: number } | undefined
          >('discount_from', 'location_id', 'product_id', 'available');
        // Lots are received with their discount time already set, so the price changes by itself; the lot timer's call
        // at that moment is what tells the live views, as long as there is something left to sell at the new price.
        if (!changed && lot?.discount_from && lot.discount_from <= now && lot.available > 0) {
          await appendEvent(trx, streams.location(lot.location_id), 'stock.discounted', {
            lotId,
            productId: lot.product_id,
            discountFrom: lot.discount_from.toISOString(),
          });
        }
        return { discountFrom: lot?.discount_from?.toISOString() ?? null };
      });
    },

    /** A shop throws out unreserved units of one of its lots (see discardUnitsIn in stock-discarding.ts). */
    discardUnits: (input: Parameters<typeof discardUnitsIn>[1]) => discardUnitsIn(db, input),

    /** Discards the unreserved units of one lot if it has expired; reserved and sold units stay. Returns the units. */
    async discardExpiredLot(lotId: number): Promise<number> {
      const [lot] = await discard(DUE_EXPIRED_LOT, [lotId], 'expired');
      return lot?.units ?? 0;
    },

    /** The stale sweep: every expired lot, in batches that skip lots busy elsewhere. */
    async discardExpiredStock(): Promise<{ lots: number; units: number }> {
      return discardInBatches(DUE_EXPIRED, 'expired');
    },

    /** The end-of-day sweep: lots produced before their location's most recent closing that has passed. */
    async discardAfterClosing(): Promise<{ lots: number; units: number }> {
      return discardInBatches(DUE_AFTER_CLOSING, 'closing');
    },

    // An order's units. The claim is the order's stock_reservations row: a retry finds it and answers as before.

    /**
     * Claims the order and takes every line oldest fresh lot first, or nothing, in one call of stock_reserve() (see
     * migration 025): the lots are locked in lot id order for its length, so buyers take turns and never re-plan.
     * `claimed` false: the order was claimed before (a retry, or a release that came first); nothing was taken.
     * `short`: the products that lacked units; nothing was taken, and the claim was kept only when `recordShort`.
     */
    async reserve(claim: {
      orderId: string;
      locationId: string;
      deliverBy: Date;
      /** Lots must still be fresh at this moment. */
      freshAt: Date;
      /** The moment whose prices apply: a lot in its end-of-day discount sells at the discounted price. */
      now: Date;
      lines: { productId: string; quantity: number }[];
      recordShort: boolean;
    }): Promise<
      | { claimed: false }
      | { claimed: true; short: string[] }
      | {
          claimed: true;
          short: null;
          /** `left`: the units of the product still fresh at the location after this order. */
          lines: { productId: string; quantity: number; amountCents: number; left: number }[];
        }
    > {
      const bindings = {
        order: claim.orderId,
        location: claim.locationId,
        deliverBy: claim.deliverBy,
        freshAt: claim.freshAt,
        now: claim.now,
        products: claim.lines.map((l) => l.productId),
        quantities: claim.lines.map((l) => l.quantity),
        recordShort: claim.recordShort,
      };
      // Straight to node-postgres as a prepared statement on a pool connection (one per order, on every worker), or
      // through knex inside a caller's transaction.
      const rows = db.isTransaction
        ? (await db.raw<{ rows: ReserveRow[] }>(RESERVE, bindings)).rows
        : await queryPrepared<ReserveRow>(db, 'stock_reserve', RESERVE, bindings);
      const first = rows[0]!;
      if (!first.claimed) return { claimed: false };
      if (first.short !== null) return { claimed: true, short: first.short };
      return {
        claimed: true,
        short: null,
        lines: rows.map((r) => ({
          productId: r.product_id!,
          quantity: r.quantity!,
          amountCents: Number(r.amount_cents),
          left: Number(r.left_units),
        })),
      };
    },

    /** The order's claim as recorded: its status and, when it was short, the products it lacked. */
    async reservationOf(orderId: string): Promise<{ status: string; outOfStockProductIds: string[] }> {
      const row = await db('stock_reservations')
        .where({ order_id: orderId })
        .first<{ status: string; out_of_stock_product_ids: string[] }>('status', 'out_of_stock_product_ids');
      return { status: row.status, outOfStockProductIds: row.out_of_stock_product_ids };
    },

    /** What the order holds (reserved or sold) per product: units and their exact money. */
    async heldUnits(orderId: string): Promise<{ productId: string; quantity: number; amountCents: number }[]> {
      const rows = await db('stock_allocations')
        .where({ order_id: orderId })
        .whereIn('state', ['reserved', 'sold'])
        .groupBy('product_id')
        .select<{ product_id: string; quantity: number; amount_cents: number }[]>(
          'product_id',
          db.raw('sum(quantity)::int AS quantity'),
          db.raw('sum(quantity * unit_price_cents)::bigint AS amount_cents'),
        );
      return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity, amountCents: r.amount_cents }));
    },

    /** Locks the order's claim for the rest of the transaction; undefined when it has none. */
    async lockReservation(orderId: string): Promise<string | undefined> {
      const row = await db('stock_reservations')
        .where({ order_id: orderId })
        .forUpdate()
        .first<{ status: string } | undefined>('status');
      return row?.status;
    },

    /** Sells the order's reserved units for good; the caller holds its claim's lock (lockReservation) and found it reserved. */
    async sellReserved(orderId: string): Promise<void> {
      await atomic(db, async (trx) => {
        await lockHeldLots(trx, orderId);
        await trx.raw(SELL_RESERVED, [orderId]);
        await trx('stock_reservations')
          .where({ order_id: orderId })
          .update({ status: 'committed', updated_at: new Date() });
      });
    },

    /**
     * Returns the order's reserved units to their lots (or to the discard pile when the lot has expired meanwhile).
     * Sold units stay sold; a release that comes first leaves a mark, so a late reservation holds nothing.
     */
    async release(orderId: string): Promise<void> {
      await atomic(db, async (trx) => {
        // Lock the order's row, or create the tombstone, in one statement.
        const { rows } = await trx.raw<{ rows: { status: string; created: boolean }[] }>(RELEASE_OR_TOMBSTONE, [
          orderId,
        ]);
        const reservation = rows[0]!;
        if (reservation.created || reservation.status !== 'reserved') return;
        const now = new Date();
        await lockHeldLots(trx, orderId);
        await trx.raw(GIVE_BACK_RESERVED, [orderId, now, now, now, now]);
        await trx('stock_reservations').where({ order_id: orderId }).update({ status: 'released', updated_at: now });
      });
    },
  };
  return repository;
}

/** Locks the lots the order holds units of, in lot id order, the order every stock transaction locks lots in. */
async function lockHeldLots(trx: Knex.Transaction, orderId: string): Promise<void> {
  const allocations = await trx('stock_allocations')
    .where({ order_id: orderId, state: 'reserved' })
    .select<{ lot_id: number }[]>('lot_id');
  await trx.raw(LOCK_LOTS, [allocations.map((a) => a.lot_id)]);
}

export type StockLotRepository = ReturnType<typeof createStockLotRepository>;
