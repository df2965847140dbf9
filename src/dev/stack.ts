// Brings up the parts the processes need (Postgres with migrations, a Temporal server) for `npm start` and the tests alike.
import path from 'node:path';
import type { Config } from '../config.js';
import { createDb, ensureDatabase, withDatabase } from '../db/knex.js';
import { migrateLatest } from '../db/migrate.js';
import { startEmbeddedPostgres } from './processes.js';
import { findTemporalCli, startDevServer } from './temporal.js';

export interface Infrastructure {
  /** The application database. */
  databaseUrl: string;
  /** The bank's own database on the same server. */
  bankDatabaseUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  stop(): Promise<void>;
}

export interface InfrastructureOptions {
  config: Config;
  /** Where embedded Postgres keeps its data; ignored when DATABASE_URL is set. */
  pgDataDir: string;
  pgPort: number;
  temporalPort: number;
  /** Undefined: the dev server runs without its Web UI. */
  temporalUiPort?: number;
  /** Where the Web UI decodes payloads: the API's codec endpoint. */
  temporalUiCodecEndpoint?: string;
  /** Undefined: the dev server keeps its state in memory. */
  temporalDbFile?: string;
  logDir: string;
  log?: (message: string) => void;
}

export async function startInfrastructure(opts: InfrastructureOptions): Promise<Infrastructure> {
  const { config } = opts;
  const log = opts.log ?? (() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const postgres = config.databaseUrl
      ? Promise.resolve({ serverUrl: config.databaseUrl, embedded: false })
      : startEmbeddedPostgres({
          dataDir: opts.pgDataDir,
          port: opts.pgPort,
          databases: ['app', 'bank'],
          logFile: path.join(opts.logDir, 'postgres.log'),
        }).then(({ url, child }) => {
          stops.push(() => child.stop());
          return { serverUrl: `${url}/app`, embedded: true };
        });
    const temporal = config.temporal.address
      ? Promise.resolve({ address: config.temporal.address, uiUrl: undefined as string | undefined })
      : findTemporalCli(config, log).then(async (cliPath) => {
          const server = await startDevServer({
            cliPath,
            port: opts.temporalPort,
            uiPort: opts.temporalUiPort,
            uiCodecEndpoint: opts.temporalUiCodecEndpoint,
            dbFile: opts.temporalDbFile,
            namespace: config.temporal.namespace,
            logFile: path.join(opts.logDir, 'temporal.log'),
            log,
          });
          stops.push(() => server.stop());
          return { address: server.address, uiUrl: server.uiUrl };
        });
    // Both start at once; whichever fails first is reported, and the other is stopped below.
    const [pg, tmp] = await Promise.all([postgres, temporal]);
    const databaseUrl = pg.serverUrl;
    const bankDatabaseUrl = withDatabase(databaseUrl, 'bank');
    if (!pg.embedded) await ensureDatabase(withDatabase(databaseUrl, 'postgres'), 'bank').catch(() => undefined);
    const db = createDb(databaseUrl, { max: 2 });
    try {
      const applied = await migrateLatest(db);
      if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
    } finally {
      await db.destroy();
    }
    return { databaseUrl, bankDatabaseUrl, temporalAddress: tmp.address, temporalUiUrl: tmp.uiUrl, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
