// Throwing out a lot's unreserved units by hand, the part of the stock repository (stock-lots.ts) a shop uses when
// stock is spoiled or dropped: the lot and its stock.discarded event change in one transaction.
import type { Knex } from 'knex';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { appendEvent } from './events.js';
import { LOT_COLUMNS, lotView, type LotRow, type LotView } from './stock-views.js';

export type DiscardUnitsResult =
  | { status: 'discarded'; lot: LotView; units: number }
  | { status: 'not_found' }
  /** More units were asked for than the lot has unreserved; reserved and sold units are the orders'. */
  | { status: 'reserved_units'; unreserved: number };

/** Moves `units` of the lot's free units (the lowest-numbered) to its discard pile; the caller checked they are free. */
const DISCARD_UNITS = `
  UPDATE stock_lots SET available = available - :units, discarded = discarded + :units,
         discarded_units = discarded_units + stock_lowest_units(free_units, :units),
         free_units = free_units - stock_lowest_units(free_units, :units)
  WHERE id = :lotId
  RETURNING ${LOT_COLUMNS.join(', ')}`;

/**
 * Discards `quantity` unreserved units of a lot at the location, or all of them when `quantity` is undefined. Asking
 * for more than are unreserved changes nothing. Discarding nothing (no units left) writes no event.
 */
export async function discardUnitsIn(
  db: Knex,
  input: { locationId: string; lotId: number; quantity: number | undefined },
): Promise<DiscardUnitsResult> {
  return atomic(db, async (trx) => {
    const lot = await trx('stock_lots')
      .where({ id: input.lotId, location_id: input.locationId })
      .forNoKeyUpdate()
      .first<LotRow | undefined>(LOT_COLUMNS);
    if (!lot) return { status: 'not_found' };
    const units = input.quantity ?? lot.available;
    if (units > lot.available) return { status: 'reserved_units', unreserved: lot.available };
    if (units === 0) return { status: 'discarded', lot: lotView(lot), units };
    const { rows } = await trx.raw<{ rows: LotRow[] }>(DISCARD_UNITS, { units, lotId: input.lotId });
    const discarded = lotView(rows[0]!);
    await appendEvent(trx, streams.location(input.locationId), 'stock.discarded', {
      lotId: discarded.id,
      productId: discarded.productId,
      units,
      reason: 'staff',
    });
    return { status: 'discarded', lot: discarded, units };
  });
}
