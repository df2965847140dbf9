// A lot index in list-price order per location, beside the name-ordered one: availability sorted by price merges the
// nearby locations' ordered scans and stops after one page, as it does by name, instead of reading every matching lot.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX stock_lots_price_order_idx ON stock_lots (location_id, product_price_cents, product_sort_key, product_id)
    INCLUDE (available, expires_at, discount_from, product_category_id, product_tags)
    WHERE available > 0`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS stock_lots_price_order_idx');
}
