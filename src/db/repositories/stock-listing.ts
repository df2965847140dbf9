// Reading a location's lots back, the part of the stock repository (stock-lots.ts) an owner checks their stock with.
import type { Knex } from 'knex';
import { LOT_COLUMNS, lotView, type LotRow, type LotView } from './stock-views.js';

/** One page of the location's lots, newest first (by lot id), optionally of one product; `afterId` is the last lot seen. */
export async function lotsAt(
  db: Knex,
  opts: { locationId: string; productId?: string; afterId?: number; limit: number },
): Promise<{ items: LotView[]; nextAfterId: number | undefined }> {
  const query = db('stock_lots')
    .where({ location_id: opts.locationId })
    .orderBy('id', 'desc')
    // One more than the page: whether it exists says whether there is a next page.
    .limit(opts.limit + 1)
    .select<LotRow[]>(LOT_COLUMNS);
  if (opts.productId !== undefined) query.andWhere({ product_id: opts.productId });
  if (opts.afterId !== undefined) query.andWhere('id', '<', opts.afterId);
  const rows = await query;
  const page = rows.slice(0, opts.limit).map(lotView);
  return { items: page, nextAfterId: rows.length > opts.limit ? page.at(-1)?.id : undefined };
}
