// Delivery slots with capacity and cutoff, the holds orders place on them, deliveries, and the order's payment fields.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('slots', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.timestamp('starts_at', { useTz: true }).notNullable();
    t.timestamp('ends_at', { useTz: true }).notNullable();
    t.integer('capacity').notNullable();
    t.integer('reserved').notNullable().defaultTo(0);
    // The latest moment an order may still take this slot.
    t.timestamp('cutoff_at', { useTz: true }).notNullable();
    t.text('status').notNullable().defaultTo('open').checkIn(['open', 'closed', 'finished'], 'slots_status_check');
    t.unique(['location_id', 'starts_at']);
    t.index(['location_id', 'starts_at']);
    t.check('ends_at > starts_at', [], 'slots_time_check');
    t.check('cutoff_at <= starts_at', [], 'slots_cutoff_check');
    t.check('reserved >= 0 AND reserved <= capacity', [], 'slots_capacity_check');
  });

  // One row per order holding capacity: makes reserve and release idempotent and the invariant checkable.
  await knex.schema.createTable('slot_holds', (t) => {
    t.uuid('order_id').primary();
    t.uuid('slot_id').notNullable().references('slots.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['slot_id']);
  });

  await knex.schema.createTable('deliveries', (t) => {
    t.uuid('order_id').primary().references('orders.id').onDelete('CASCADE');
    t.uuid('location_id').notNullable().references('locations.id');
    t.uuid('driver_id').references('users.id');
    t.text('status')
      .notNullable()
      .checkIn(['pending', 'assigned', 'picked_up', 'delivered'], 'deliveries_status_check');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['location_id', 'status']);
    t.index(['driver_id', 'status']);
  });

  await knex.schema.alterTable('orders', (t) => {
    t.text('charge_id');
    t.text('charge_status');
    t.timestamp('slot_starts_at', { useTz: true });
    t.foreign('slot_id').references('slots.id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => {
    t.dropForeign(['slot_id']);
    t.dropColumns('charge_id', 'charge_status', 'slot_starts_at');
  });
  await knex.schema.dropTableIfExists('deliveries');
  await knex.schema.dropTableIfExists('slot_holds');
  await knex.schema.dropTableIfExists('slots');
}
