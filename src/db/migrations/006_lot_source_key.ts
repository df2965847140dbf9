// A lot made by a production run remembers the run, so a retried run finds its lot instead of baking another.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('stock_lots', (t) => {
    t.text('source_key').unique();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('stock_lots', (t) => {
    t.dropColumn('source_key');
  });
}
