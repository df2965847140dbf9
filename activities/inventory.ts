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
// The statements themselves are the stock repository's (src/db/repositories/stock-lots.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';
import { isStalePlan, type PlannedTake, type StockLotRepository } from '../src/db/repositories/stock-lots.js';
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
  { status: 'reserved'; lines: ReservedLine[] } | { status: 'out_of_stock'; productIds: string[] };

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

function refuse(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function validate(input: ReserveStockInput): Date {
  const deliverBy = new Date(input.deliverBy);
  if (Number.isNaN(deliverBy.getTime()))
    throw refuse(STOCK_FAILURES.invalidInput, `deliverBy "${input.deliverBy}" is not a date`);
  if (input.lines.length === 0) throw refuse(STOCK_FAILURES.invalidInput, 'An order needs at least one line');
  const seen = new Set<string>();
  for (const line of input.lines) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_LINE_QUANTITY) {
      throw refuse(
        STOCK_FAILURES.invalidInput,
        `Quantity ${line.quantity} of product ${line.productId} is not a positive whole number of units`,
      );
    }
    if (seen.has(line.productId))
      throw refuse(STOCK_FAILURES.invalidInput, `Product ${line.productId} appears on two lines`);
    seen.add(line.productId);
  }
  return deliverBy;
}

/** Each re-plan means another order took units meanwhile; this many in a row means something is wrong. */
const MAX_PLANS = 100;

/** A retry's answer: what the first call for this order decided. */
async function previousAnswer(stock: StockLotRepository, input: ReserveStockInput): Promise<ReserveStockResult> {
  const previous = await stock.reservationOf(input.orderId);
  if (previous.status === 'out_of_stock') return { status: 'out_of_stock', productIds: previous.outOfStockProductIds };
  if (previous.status === 'released')
    throw refuse(STOCK_FAILURES.released, `Stock for order ${input.orderId} was already released`);
  return { status: 'reserved', lines: await heldLines(stock, input) };
}

/** The lines an order already holds, in the order it asked for them. */
async function heldLines(stock: StockLotRepository, input: ReserveStockInput): Promise<ReservedLine[]> {
  const rows = await stock.heldUnits(input.orderId);
  const byProduct = new Map(rows.map((r) => [r.productId, r]));
  const lines = input.lines.map((line) => ({
    productId: line.productId,
    quantity: byProduct.get(line.productId)?.quantity ?? 0,
    amountCents: byProduct.get(line.productId)?.amountCents ?? 0,
  }));
  const matches = rows.length === input.lines.length && lines.every((l, i) => l.quantity === input.lines[i]!.quantity);
  if (!matches)
    throw refuse(
      STOCK_FAILURES.mismatch,
      `Order ${input.orderId} already holds different stock than this request asks for`,
    );
  return lines;
}

/** Sells the order's reserved units for good, in `stock`'s transaction; committing twice changes nothing. */
export async function commitOrderStock(stock: StockLotRepository, orderId: string): Promise<void> {
  const status = await stock.lockReservation(orderId);
  if (status === 'committed') return;
  if (status !== 'reserved') {
    throw refuse(
      STOCK_FAILURES.nothingToCommit,
      `Order ${orderId} holds no stock to commit (${status ?? 'never reserved'})`,
    );
  }
  await stock.sellReserved(orderId);
}

export function createInventoryActivities(db: Knex) {
  const repos = createRepositories(db);
  const { stock } = repos;
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
        const candidates = await stock.claimOrCandidateLots(input.orderId, input.locationId, productIds, freshAt);
        // A retry, or a release that came first: answer from what is recorded.
        if (candidates.claimed) return repos.transaction((tx) => previousAnswer(tx.stock, input));
        const lots = candidates.lots;

        const plan = input.lines.map((line) => ({
          line,
          taken: allocateOldestFirst(
            lots
              .filter((l) => l.product_id === line.productId)
              .map((l) => ({ ...l, producedAt: l.produced_at, expiresAt: l.expires_at })),
            line.quantity,
            freshAt,
          ),
        }));
        const short = plan.filter((p) => p.taken === null).map((p) => p.line.productId);
        // Out of stock needs no record: nothing is held, and an earlier attempt of this order that holds units would
        // show in the snapshot, as its claim or as those units still free. Only when "now" (not deliverBy) decided
        // freshness could a retry see fewer fresh lots than the attempt before it, so then the answer is recorded.
        if (short.length > 0 && freshAt.getTime() === deliverBy.getTime())
          return { status: 'out_of_stock', productIds: short };
        const takes: PlannedTake[] =
          short.length > 0
            ? []
            : plan.flatMap(({ taken }) =>
                taken!.map(({ lot, quantity }) => ({
                  lotId: lot.id,
                  productId: lot.product_id,
                  quantity,
                  unitPriceCents: priceInEffectCents(
                    { priceCents: lot.price_cents, eodDiscountPercent: lot.eod_discount_percent },
                    lot.discount_from,
                    now,
                  ),
                  discounted: isDiscountedAt(lot.discount_from, now),
                })),
              );

        let claimed: boolean;
        try {
          claimed = await stock.claimAndTake({
            orderId: input.orderId,
            locationId: input.locationId,
            deliverBy,
            status: short.length > 0 ? 'out_of_stock' : 'reserved',
            outOfStockProductIds: short,
            takes,
            now,
          });
        } catch (err) {
          if (isStalePlan(err) && attempt < MAX_PLANS) continue;
          throw err;
        }
        if (!claimed) return repos.transaction((tx) => previousAnswer(tx.stock, input));
        if (short.length > 0) return { status: 'out_of_stock', productIds: short };
        return {
          status: 'reserved',
          lines: input.lines.map((line) => {
            const mine = takes.filter((t) => t.productId === line.productId);
            return {
              productId: line.productId,
              quantity: line.quantity,
              amountCents: mine.reduce((sum, t) => sum + t.quantity * t.unitPriceCents, 0),
            };
          }),
        };
      }
    },

    /**
     * Returns the order's reserved units to their lots (or to the discard pile when the lot has expired meanwhile).
     * Idempotent; sold units stay sold; a release that arrives first leaves a mark so a late reservation holds nothing.
     */
    async releaseStock(orderId: string): Promise<void> {
      await stock.release(orderId);
    },

    /** Turns the order's reserved units into sold ones. Idempotent; refuses an order whose stock is not held. */
    async commitStock(orderId: string): Promise<void> {
      await repos.transaction((tx) => commitOrderStock(tx.stock, orderId));
    },

    /**
     * Puts a lot on its end-of-day discount now, unless it already is; the lot timer calls this when the window opens.
     * Units already reserved keep the price they were reserved at.
     */
    async discountLot(lotId: number): Promise<DiscountLotResult> {
      const { discountFrom } = await stock.discountLot(lotId, new Date());
      return { lotId, discountFrom };
    },

    /** Discards the unreserved units of an expired lot; reserved and sold units are the orders' and stay. Idempotent. */
    async discardExpiredLot(lotId: number): Promise<DiscardLotResult> {
      return { lotId, discardedUnits: await stock.discardExpiredLot(lotId) };
    },

    /** The stale sweep: discards the unreserved units of every expired lot, in batches that skip lots busy elsewhere. */
    async discardExpiredStock(): Promise<{ lots: number; units: number }> {
      // Each discard is announced in the same transaction, so live views drop the units the moment they go.
      return stock.discardExpiredStock();
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
