// The bank's own ordered migrations, kept apart from the application's because the bank owns its database.
import type { Knex } from 'knex';
import * as m001 from './001_ledger.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const bankMigrations: ReadonlyArray<[name: string, migration: Migration]> = [['001_ledger', m001]];
