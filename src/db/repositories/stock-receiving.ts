// Receiving a lot, the part of the stock repository (stock-lots.ts) that decides a new lot's times: it writes the lot
// and its event in the caller's transaction.
import type { Knex } from 'knex';
import { endOfDayDiscountFrom } from '../../domain/pricing.js';
import { streams } from '../../events/log.js';
import { appendEvent } from './events.js';
import { CLOSINGS_OF_PRODUCTION_DAY } from './stock-statements.js';
import { LOT_COLUMNS, lotView, type LotRow, type ReceiveLotInput, type ReceiveLotResult } from './stock-views.js';

/**
 * Receives one lot inside `trx`: producedAt defaults to now, expiresAt to producedAt plus the product's shelf life,
 * and the end-of-day discount starts half an hour before the lot stops selling (expiry or the location's closing).
 */
export async function receiveLotIn(
  trx: Knex.Transaction,
  input: ReceiveLotInput,
  now: Date,
): Promise<ReceiveLotResult> {
  if (input.sourceKey !== undefined) {
    const existing = await trx('stock_lots')
      .where({ source_key: input.sourceKey })
      .first<LotRow | undefined>(LOT_COLUMNS);
    if (existing) return { status: 'received', lot: lotView(existing) };
  }
  const product = await trx('products')
    .where({ id: input.productId })
    .first<{ shelf_life_minutes: number } | undefined>('shelf_life_minutes');
  if (!product) return { status: 'unknown_product' };
  const producedAt = input.producedAt ?? now;
  const closings = await trx.raw<{ rows: { closes: Date }[] }>(CLOSINGS_OF_PRODUCTION_DAY, [
    producedAt,
    input.locationId,
  ]);
  if (closings.rows.length === 0) return { status: 'unknown_location' };
  const expiresAt = input.expiresAt ?? new Date(producedAt.getTime() + product.shelf_life_minutes * 60_000);
  if (expiresAt.getTime() <= now.getTime()) return { status: 'already_expired', expiresAt: expiresAt.toISOString() };
  if (expiresAt.getTime() <= producedAt.getTime()) return { status: 'expires_before_produced' };
  const discountFrom = endOfDayDiscountFrom(
    { producedAt, expiresAt },
    closings.rows.map((r) => r.closes),
  );

  const [row] = await trx('stock_lots')
    .insert({
      location_id: input.locationId,
      product_id: input.productId,
      quantity: input.quantity,
      available: input.quantity,
      // Units 0..quantity-1, all free.
      free_units: trx.raw('int4multirange(int4range(0, ?))', [input.quantity]),
      produced_at: producedAt,
      expires_at: expiresAt,
      discount_from: discountFrom,
      source_key: input.sourceKey ?? null,
    })
    .returning<LotRow[]>(LOT_COLUMNS);
  const lot = lotView(row!);
  await appendEvent(trx, streams.location(input.locationId), 'stock.received', {
    lotId: lot.id,
    productId: lot.productId,
    quantity: lot.quantity,
    expiresAt: lot.expiresAt,
  });
  return { status: 'received', lot };
}
