// `npm run bench -- availability --replica`: the Postgres of `npm run cluster` (Debian's server as the primary, a
// streaming replica made from it with pg_basebackup) and two API servers on it, one reading the primary and one with the
// replica as its DATABASE_READ_URL, so availability served from each can be measured in one run under the same load.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb, ensureDatabase } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import {
  findDebianPostgres,
  startPrimary,
  startReplica,
  type DebianPostgres,
  type PostgresServer,
} from '../../src/dev/cluster-postgres.js';
import { freePort } from '../../src/dev/ports.js';
import { listenApi } from './light-stack.js';

export interface ReplicaStack {
  pgVersion: string;
  databaseUrl: string;
  db: Knex;
  /** Takes a base backup of the primary as it is now, starts the replica, and waits until it has replayed everything. */
  startReplica(): Promise<string>;
  /** An API reading the primary, and one reading the replica (DATABASE_READ_URL), both deciding on the primary. */
  startApis(readUrl: string): Promise<{ primaryUrl: string; replicaUrl: string }>;
  /** Transactions the replica's application database has committed so far: reads served there. */
  replicaTransactions(): Promise<number>;
  stop(): Promise<void>;
}

export async function startReplicaStack(opts: { log: (m: string) => void; poolMax: number }): Promise<ReplicaStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-replica-'));
  // Postgres runs as its own user when we are root, and must reach its data directories.
  fs.chmodSync(dir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pgInstall: DebianPostgres = await findDebianPostgres(opts.log);
    const primary: PostgresServer = await startPrimary({
      pgInstall,
      dataDir: path.join(dir, 'pg-primary'),
      port: await freePort(),
      logFile: path.join(dir, 'postgres-primary.log'),
      log: opts.log,
    });
    stops.push(() => primary.child.stop());
    await ensureDatabase(`${primary.url}/postgres`, 'app');
    const databaseUrl = `${primary.url}/app`;
    const db = createDb(databaseUrl, { max: opts.poolMax });
    stops.push(() => db.destroy());
    await migrateLatest(db);
    let replicaDb: Knex | undefined;

    return {
      pgVersion: pgInstall.version,
      databaseUrl,
      db,
      async startReplica() {
        const replica = await startReplica({
          pgInstall,
          primary,
          dataDir: path.join(dir, 'pg-replica'),
          port: await freePort(),
          logFile: path.join(dir, 'postgres-replica.log'),
          log: opts.log,
        });
        stops.push(() => replica.child.stop());
        const readUrl = `${replica.url}/app`;
        replicaDb = createDb(readUrl, { max: 1 });
        stops.push(() => replicaDb!.destroy());
        const { rows } = await db.raw<{ rows: { lsn: string }[] }>('SELECT pg_current_wal_lsn()::text AS lsn');
        for (;;) {
          const { rows: replayed } = await replicaDb.raw<{ rows: { caught: boolean }[] }>(
            'SELECT coalesce(pg_last_wal_replay_lsn() >= ?::pg_lsn, false) AS caught',
            [rows[0]!.lsn],
          );
          if (replayed[0]!.caught) return readUrl;
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async startApis(readUrl: string) {
        const connection = Connection.lazy({ address: '127.0.0.1:1' });
        stops.push(() => connection.close());
        // The routes measured here never call Temporal; a lazy connection costs nothing until used.
        const start = async (config: Config) => {
          const { app, baseUrl } = await listenApi(config, db, connection);
          stops.push(() => app.close());
          return baseUrl;
        };
        const env = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: '127.0.0.1:1', LOG_LEVEL: 'error' };
        return {
          primaryUrl: await start(loadConfig({ ...env, DATABASE_READ_URL: '' })),
          replicaUrl: await start(loadConfig({ ...env, DATABASE_READ_URL: readUrl })),
        };
      },
      async replicaTransactions() {
        if (!replicaDb) return 0;
        const { rows } = await replicaDb.raw<{ rows: { n: string }[] }>(
          "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = 'app'",
        );
        return Number(rows[0]!.n);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
