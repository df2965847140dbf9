// Indexes for reading back page by page: order history newest first (all orders, or a location's), a location's lots
// newest first whatever is left of them, and the catalogue in name order.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX orders_history_idx ON orders (created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX orders_location_history_idx ON orders (location_id, created_at DESC, id DESC)');
  await knex.raw('CREATE INDEX orders_customer_history_idx ON orders (customer_id, created_at DESC, id DESC)');
  // The customer's history index above serves every query the first one did.
  await knex.schema.alterTable('orders', (t) => t.dropIndex(['customer_id', 'created_at']));
  await knex.raw('CREATE INDEX stock_lots_location_listing_idx ON stock_lots (location_id, id DESC)');
  await knex.raw('CREATE INDEX products_name_idx ON products (lower(name), id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.index(['customer_id', 'created_at']));
  for (const index of [
    'products_name_idx',
    'stock_lots_location_listing_idx',
    'orders_customer_history_idx',
    'orders_location_history_idx',
    'orders_history_idx',
  ])
    await knex.raw(`DROP INDEX IF EXISTS ${index}`);
}
