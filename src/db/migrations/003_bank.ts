// What the API keeps about the bank: each user's bank account, and the webhook events already handled (for dedupe).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    // The bank's id for the account an order by this user is charged to; the bank owns the account itself.
    t.text('bank_account_id');
  });

  // One row per bank event id: a redelivered event finds its row and has no second effect.
  await knex.schema.createTable('webhook_events', (t) => {
    t.text('event_id').primary();
    t.text('type').notNullable();
    t.text('charge_id');
    t.text('reference');
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_events');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('bank_account_id');
  });
}
