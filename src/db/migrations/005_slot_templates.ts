// Weekly slot templates per location, from which the daily schedule creates slots.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('slot_templates', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.smallint('weekday').notNullable();
    t.text('start').notNullable();
    t.text('end').notNullable();
    t.integer('capacity').notNullable();
    t.integer('cutoff_minutes').notNullable();
    t.index(['location_id']);
    t.check('weekday BETWEEN 1 AND 7', [], 'slot_templates_weekday_check');
    t.check('capacity > 0', [], 'slot_templates_capacity_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('slot_templates');
}
