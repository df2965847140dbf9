// Collection orders: an order is delivered or collected at the counter; a counter order has no customer account (a
// label instead) and no address. Each location sets how long a ready order waits and how long its number stays on
// the board.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.text('fulfilment')
      .notNullable()
      .defaultTo('delivery')
      .checkIn(['delivery', 'collection'], 'orders_fulfilment_check');
    t.text('label');
    // Set when a ready number left the public board while the order still waits to be collected.
    t.timestamp('off_board_at', { useTz: true });
  });
  await knex.raw('ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL, ALTER COLUMN address DROP NOT NULL');
  await knex.raw(
    "ALTER TABLE orders ADD CONSTRAINT orders_address_check CHECK ((fulfilment = 'delivery') = (address IS NOT NULL))",
  );
  await knex.schema.alterTable('locations', (t) => {
    t.integer('collection_window_minutes').notNullable().defaultTo(60);
    t.integer('board_hold_minutes').notNullable().defaultTo(30);
    t.check('collection_window_minutes > 0', [], 'locations_collection_window_check');
    t.check('board_hold_minutes > 0', [], 'locations_board_hold_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('locations', (t) => {
    t.dropChecks(['locations_collection_window_check', 'locations_board_hold_check']);
    t.dropColumns('collection_window_minutes', 'board_hold_minutes');
  });
  await knex('orders').whereNull('customer_id').orWhereNull('address').delete();
  await knex.raw('ALTER TABLE orders DROP CONSTRAINT orders_address_check');
  await knex.schema.alterTable('orders', (t) => {
    t.dropChecks(['orders_fulfilment_check']);
    t.dropColumns('fulfilment', 'label', 'off_board_at');
  });
  await knex.raw('ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL, ALTER COLUMN address SET NOT NULL');
}
