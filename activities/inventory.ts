// Stock activities for the order saga and the lot timers: reserve concrete units all-or-nothing, release, commit, discount, discard.
//
// Reserving: one call of the server-side function stock_reserve() (migration 017) claims the order, locks the fresh
// lots of its products at the location in lot id order, and takes each line oldest lot first at the price in effect,
// with each lot's lowest free units, or takes nothing. Buyers of the same products take turns for the length of that
// call inside Postgres, never across a network round trip, and never see "out of stock" while units they need are free.
// (src/domain/stock.ts's allocateOldestFirst is the rule it follows; the inventory tests hold the two to each other.)
// The claim is the order's row in stock_reservations: a retry of the same order finds it (or waits on it while the
// first attempt commits) and answers as the first attempt did.
// Release and commit lock the order's row, then its lots in the same id order, so no two transactions wait in a cycle.
// The statements themselves are the stock repository's (src/db/repositories/stock-lots.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { createRepositories } from '../src/db/repositories/index.js';
import { streams } from '../src/events/log.js';
import type { StockLotRepository } from '../src/db/repositories/stock-lots.js';

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
      const now = new Date();
      const freshAt = new Date(Math.max(now.getTime(), deliverBy.getTime()));
      const taken = await stock.reserve({
        orderId: input.orderId,
        locationId: input.locationId,
        deliverBy,
        freshAt,
        now,
        lines: input.lines,
        // Out of stock needs no record: nothing is held, and an earlier attempt of this order that holds units would
        // have left its claim. Only when "now" (not deliverBy) decided freshness could a retry see fewer fresh lots
        // than the attempt before it, so then the answer is recorded.
        recordShort: freshAt.getTime() !== deliverBy.getTime(),
      });
      // A retry, or a release that came first: answer from what is recorded.
      if (!taken.claimed) return repos.transaction((tx) => previousAnswer(tx.stock, input));
      if (taken.short !== null) return { status: 'out_of_stock', productIds: taken.short };
      // A product this order sold out here is announced, so open pages grey it out without waiting for a reread.
      const soldOut = taken.lines.filter((line) => line.left <= 0).map((line) => line.productId);
      for (const productId of soldOut)
        await repos.events.append(streams.location(input.locationId), 'stock.sold_out', { productId });
      return {
        status: 'reserved',
        lines: taken.lines.map(({ productId, quantity, amountCents }) => ({ productId, quantity, amountCents })),
      };
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
