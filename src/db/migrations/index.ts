// The ordered list of migrations, imported statically so they run the same under tsx, vitest and a build.
import type { Knex } from 'knex';
import * as m001 from './001_foundation.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: ReadonlyArray<[name: string, migration: Migration]> = [
  ['001_foundation', m001],
];
