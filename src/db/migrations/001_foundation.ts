// Users, locations, products, orders and the event log: the tables every later part builds on.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('role').notNullable().checkIn(['customer', 'owner', 'driver', 'operator'], 'users_role_check');
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('locations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('kind').notNullable().checkIn(['bakery', 'kitchen', 'dc'], 'locations_kind_check');
    t.double('lat').notNullable();
    t.double('lng').notNullable();
    // The 1-hour delivery bound, expressed as the distance a courier covers in that time.
    t.integer('delivery_radius_m').notNullable();
    t.text('timezone').notNullable().defaultTo('UTC');
    t.time('opens_at').notNullable().defaultTo('00:00');
    t.time('closes_at').notNullable().defaultTo('23:59');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('location_owners', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.primary(['user_id', 'location_id']);
  });

  await knex.schema.createTable('products', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('description').notNullable().defaultTo('');
    t.integer('price_cents').notNullable();
    t.integer('shelf_life_minutes').notNullable();
    t.integer('eod_discount_percent').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('price_cents >= 0', [], 'products_price_check');
    t.check('shelf_life_minutes > 0', [], 'products_shelf_life_check');
    t.check('eod_discount_percent BETWEEN 0 AND 100', [], 'products_discount_check');
  });

  await knex.schema.createTable('orders', (t) => {
    t.uuid('id').primary();
    t.uuid('customer_id').notNullable().references('users.id');
    t.uuid('location_id').notNullable().references('locations.id');
    t.uuid('slot_id');
    t.text('status').notNullable();
    t.text('reason');
    t.integer('total_cents').notNullable();
    t.jsonb('address').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['customer_id', 'created_at']);
    t.index(['location_id', 'status']);
  });

  await knex.schema.createTable('order_lines', (t) => {
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE');
    t.uuid('product_id').notNullable().references('products.id');
    t.integer('quantity').notNullable();
    t.integer('unit_price_cents').notNullable();
    t.primary(['order_id', 'product_id']);
  });

  // Maps a customer's Idempotency-Key to the order it created, with a hash of the request body.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('customer_id').notNullable().references('users.id');
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.uuid('order_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['customer_id', 'key']);
  });

  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id').primary();
    t.text('stream').notNullable();
    t.text('type').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['stream', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'events',
    'idempotency_keys',
    'order_lines',
    'orders',
    'products',
    'location_owners',
    'locations',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
