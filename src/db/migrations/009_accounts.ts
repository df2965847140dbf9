// Accounts: people log in with an email and a password, scripts with named API tokens, pages with sessions;
// staff belong to locations by invitation, as owners or drivers.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    // Stored lower-cased and trimmed, so one address is one account whatever its spelling.
    t.text('email').unique();
    t.text('password_hash');
  });

  // A credential is an API token a user named (kind api) or a page's login (kind session, which expires).
  await knex.schema.createTable('credentials', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('kind').notNullable().checkIn(['api', 'session'], 'credentials_kind_check');
    t.text('name').notNullable();
    t.text('token_hash').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_used_at', { useTz: true });
    t.timestamp('expires_at', { useTz: true });
    t.index(['user_id', 'kind']);
  });
  await knex.raw(`
    INSERT INTO credentials (user_id, kind, name, token_hash, created_at)
    SELECT id, 'api', 'default', token_hash, created_at FROM users`);
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('token_hash');
  });

  // Who works where: the owners who run a location and the drivers who deliver for it.
  await knex.schema.createTable('location_staff', (t) => {
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('role').notNullable().checkIn(['owner', 'driver'], 'location_staff_role_check');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['location_id', 'user_id']);
    t.index(['user_id']);
  });
  await knex.raw(`
    INSERT INTO location_staff (location_id, user_id, role)
    SELECT lo.location_id, lo.user_id, 'owner' FROM location_owners lo`);
  await knex.schema.dropTable('location_owners');

  await knex.schema.createTable('staff_invitations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.text('email').notNullable();
    t.text('role').notNullable().checkIn(['owner', 'driver'], 'staff_invitations_role_check');
    t.text('token_hash').notNullable().unique();
    t.uuid('invited_by').references('users.id').onDelete('SET NULL');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('accepted_at', { useTz: true });
    t.uuid('accepted_by').references('users.id').onDelete('SET NULL');
    t.timestamp('withdrawn_at', { useTz: true });
    t.index(['location_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('staff_invitations');
  await knex.schema.createTable('location_owners', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.uuid('location_id').notNullable().references('locations.id').onDelete('CASCADE');
    t.primary(['user_id', 'location_id']);
  });
  await knex.raw(`
    INSERT INTO location_owners (user_id, location_id)
    SELECT user_id, location_id FROM location_staff WHERE role = 'owner'`);
  await knex.schema.dropTable('location_staff');
  await knex.schema.alterTable('users', (t) => {
    t.text('token_hash').unique();
  });
  // One API token per user comes back; users with none cannot log in until they are given one.
  await knex.raw(`
    UPDATE users u SET token_hash = c.token_hash
    FROM (SELECT DISTINCT ON (user_id) user_id, token_hash FROM credentials WHERE kind = 'api' ORDER BY user_id, created_at) c
    WHERE c.user_id = u.id`);
  await knex.schema.dropTable('credentials');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('email');
    t.dropColumn('password_hash');
  });
}
