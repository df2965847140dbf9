// Migrates the bank's own database (its schema is in migrations/ here); the bank process runs this on start.
import type { Knex } from 'knex';
import { bankMigrations } from './migrations/index.js';

/** Its own bookkeeping table, so pointing the bank at a shared database cannot confuse the two migration histories. */
export const BANK_MIGRATIONS_TABLE = 'knex_migrations_bank';

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => bankMigrations.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = bankMigrations.find(([n]) => n === name);
    if (!found) throw new Error(`Unknown bank migration ${name}`);
    return found[1];
  },
};

export async function migrateBank(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource: source, tableName: BANK_MIGRATIONS_TABLE })) as [
    number,
    string[],
  ];
  return applied;
}
