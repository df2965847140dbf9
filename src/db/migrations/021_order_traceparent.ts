// Where an order's trace goes on: the W3C traceparent of the placement that wrote the order, kept while tracing is on,
// so the shop's and drivers' later requests continue the order's one trace (each linked to its own request's).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.text('traceparent').nullable());
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.dropColumn('traceparent'));
}
