// The database itself, as readiness sees it.
import type { Knex } from 'knex';

/** Resolves once Postgres answers a trivial query. */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}
