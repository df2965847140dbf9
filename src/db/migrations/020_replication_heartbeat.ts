// A heartbeat the API writes on the primary and reads on the read replica: the age of the copy the replica has is how
// far it lags, even when nothing else is being written.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('replication_heartbeat', (t) => {
    t.smallint('id').primary();
    t.timestamp('beat_at', { useTz: true }).notNullable();
    t.check('id = 1', [], 'replication_heartbeat_one_row');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('replication_heartbeat');
}
