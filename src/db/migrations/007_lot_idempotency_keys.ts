// Maps a caller's Idempotency-Key for receiving stock to the lot it received, with a digest of the request it was first used for.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lot_idempotency_keys', (t) => {
    t.uuid('user_id').notNullable().references('users.id');
    t.text('key').notNullable();
    t.text('request_hash').notNullable();
    t.bigInteger('lot_id').notNullable().references('stock_lots.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Keys are the caller's own: two owners may pick the same one. A retry racing the first request waits on this
    // constraint and then finds the lot the first one received.
    t.primary(['user_id', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('lot_idempotency_keys');
}
