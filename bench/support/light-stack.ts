// Postgres (migrated) and Temporal on free ports, and optionally the API alone over HTTP: for benchmarks that need no worker or bank.
import { Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import { temporalClient } from '../../src/temporal.js';
import { startBenchInfrastructure } from './infrastructure.js';

export interface LightStack {
  config: Config;
  databaseUrl: string;
  db: Knex;
  /** Set when the API was asked for. */
  baseUrl: string | undefined;
  /** The Postgres server's process, the root of its backends. */
  postgresPid: number;
  stop(): Promise<void>;
}

/** The API alone on a free port, without its logger. */
export async function listenApi(
  config: Config,
  db: Knex,
  connection: Connection,
): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app = await buildApp({ config, db, temporal: temporalClient(config, connection), logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

export async function startLightStack(opts: { api: boolean; poolMax: number }): Promise<LightStack> {
  const servers = await startBenchInfrastructure();
  const { infra, config } = servers;
  const db = createDb(infra.databaseUrl, { max: opts.poolMax });
  // The routes measured here never call Temporal; a lazy connection costs nothing until used.
  const connection = Connection.lazy({ address: infra.temporalAddress });
  let app: FastifyInstance | undefined;
  let baseUrl: string | undefined;
  if (opts.api) ({ app, baseUrl } = await listenApi(config, db, connection));
  return {
    config,
    databaseUrl: infra.databaseUrl,
    db,
    baseUrl,
    postgresPid: servers.postgresPid(),
    async stop() {
      await app?.close();
      await connection.close();
      await db.destroy();
      await servers.stop();
    },
  };
}
