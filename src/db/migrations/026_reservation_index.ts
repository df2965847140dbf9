// The index a reservation reads: a location's lots of a product, by expiry, with what each has left.
//
// stock_reserve() locks every fresh lot of the products it is asked for, sold out or not, and the old index held only
// lots with units left (`WHERE available > 0`): nothing served the lock, so it read every lot the location ever had,
// and more once a shop had been selling for months. Its short answer read the lots' counts from the heap, or from an
// availability index that orders a location's lots by name or price. This one finds exactly the product's lots fresh
// at the moment asked, and answers how many units they hold from the index alone.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'CREATE INDEX stock_lots_reservation_fresh_idx ON stock_lots (location_id, product_id, expires_at) INCLUDE (available)',
  );
  await knex.raw('DROP INDEX stock_lots_reservation_idx');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX stock_lots_reservation_idx ON stock_lots (location_id, product_id) WHERE available > 0');
  await knex.raw('DROP INDEX stock_lots_reservation_fresh_idx');
}
