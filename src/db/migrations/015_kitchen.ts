// Kitchen and POS systems tell us about orders by signed messages: each location's inbound secret (with the one it
// replaced, valid for a while after a rotation) and the message ids already acted on, so a resent message is a no-op.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('kitchen_secrets', (t) => {
    t.uuid('location_id').primary().references('locations.id').onDelete('CASCADE');
    // Kept as sent to the owner: verifying a signature needs the secret itself, not a hash of it.
    t.text('secret').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('previous_secret');
    t.timestamp('previous_expires_at', { useTz: true });
    t.check('(previous_secret IS NULL) = (previous_expires_at IS NULL)', [], 'kitchen_secrets_previous_check');
  });
  await knex.schema.createTable('kitchen_messages', (t) => {
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.text('message_id').notNullable();
    t.text('type').notNullable();
    t.uuid('order_id').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['location_id', 'message_id']);
    // Old ids are swept by this index.
    t.index(['received_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('kitchen_messages');
  await knex.schema.dropTableIfExists('kitchen_secrets');
}
