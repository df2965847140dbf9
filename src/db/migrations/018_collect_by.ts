// When a ready collection order stops waiting at the counter: its window counted from the later of ready and the
// slot's start. The workflow decides it when the order is ready; the order's page and its customer read it here.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.timestamp('collect_by', { useTz: true }).nullable());
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (t) => t.dropColumn('collect_by'));
}
