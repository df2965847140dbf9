// The bank's ledger: accounts with balances and holds, charges keyed by idempotency key, and the webhook outbox.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('holder_name').notNullable();
    t.bigInteger('balance_cents').notNullable();
    // Money promised to pending charges; what a new charge may take is balance minus held.
    t.bigInteger('held_cents').notNullable().defaultTo(0);
    // decline: every charge is declined; silent: the bank never decides (payment timeout tests).
    t.text('behavior')
      .notNullable()
      .defaultTo('normal')
      .checkIn(['normal', 'decline', 'silent'], 'accounts_behavior_check');
    t.integer('decision_delay_ms').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('balance_cents >= 0', [], 'accounts_balance_check');
    t.check('held_cents >= 0 AND held_cents <= balance_cents', [], 'accounts_held_check');
    t.check('decision_delay_ms >= 0', [], 'accounts_delay_check');
  });

  await knex.schema.createTable('charges', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('idempotency_key').notNullable().unique();
    t.uuid('account_id').notNullable().references('accounts.id');
    t.bigInteger('amount_cents').notNullable();
    /** The merchant's own id for what is paid for: our order id. */
    t.text('reference').notNullable();
    t.text('status')
      .notNullable()
      .defaultTo('pending')
      .checkIn(['pending', 'approved', 'insufficient_funds', 'declined', 'voided', 'refunded'], 'charges_status_check');
    // What this charge holds on its account while pending: the amount, or 0 when funds did not suffice.
    t.bigInteger('held_cents').notNullable().defaultTo(0);
    // When a pending charge is due to be decided; null once decided, and always for silent accounts.
    t.timestamp('decide_at', { useTz: true });
    t.timestamp('decided_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('amount_cents > 0', [], 'charges_amount_check');
    t.check('held_cents IN (0, amount_cents)', [], 'charges_held_check');
    t.index(['account_id', 'created_at']);
  });
  await knex.raw(
    "CREATE INDEX charges_due_idx ON charges (decide_at) WHERE status = 'pending' AND decide_at IS NOT NULL",
  );

  // Events are written in the same transaction as the change they announce, then delivered until the merchant says 2xx.
  await knex.schema.createTable('webhook_outbox', (t) => {
    t.uuid('event_id').primary();
    t.text('type').notNullable();
    t.uuid('charge_id').notNullable().references('charges.id');
    t.jsonb('payload').notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['webhook_outbox', 'charges', 'accounts']) {
    await knex.schema.dropTableIfExists(table);
  }
}
