// Creates the knex instance for the application database, and helpers to create databases.
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

// BIGINT (events.id, counts) arrives as string by default; our ids and counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export type Db = Knex;

export function createDb(
  databaseUrl: string,
  pool: { min?: number; max?: number; acquireTimeoutMs?: number; log?: Knex.Logger } = {},
): Db {
  const acquireTimeoutMs = pool.acquireTimeoutMs ?? 10_000;
  return knexFactory({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: process.title },
    pool: { min: pool.min ?? 0, max: pool.max ?? 10, acquireTimeoutMillis: acquireTimeoutMs },
    acquireConnectionTimeout: acquireTimeoutMs,
    ...(pool.log ? { log: pool.log } : {}),
  });
}

/** Creates `database` on the server behind `adminUrl` if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      } catch (err) {
        // Another process may have created it between the check and the create.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Runs `work` in a transaction: `db`'s own when it already is one (so a repository joins its caller's unit of work),
 * a new one otherwise.
 */
export function atomic<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db as Knex.Transaction) : db.transaction(work);
}
