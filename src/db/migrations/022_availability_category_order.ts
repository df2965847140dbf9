// A lot index in name order per location and category: availability filtered by a category merges the nearby
// locations' scans of that category alone, instead of reading every lot nearby to find the few that are in it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX stock_lots_category_order_idx ON stock_lots (location_id, product_category_id, product_sort_key, product_id)
    INCLUDE (available, expires_at, discount_from, product_price_cents, product_tags)
    WHERE available > 0 AND product_category_id IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS stock_lots_category_order_idx');
}
