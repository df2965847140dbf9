// Postgres (migrated) and Temporal on free ports, and optionally the API alone over HTTP: for benchmarks that need no worker or bank.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import { freePort } from '../../src/dev/ports.js';
import { startInfrastructure } from '../../src/dev/stack.js';

export interface LightStack {
  config: Config;
  databaseUrl: string;
  db: Knex;
  /** Set when the API was asked for. */
  baseUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startLightStack(opts: { api: boolean; poolMax: number }): Promise<LightStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-'));
  // Postgres runs as its own unprivileged user when we are root, and must reach its data directory.
  fs.chmodSync(dir, 0o755);
  const base = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: 'error' });
  const infra = await startInfrastructure({
    config: base,
    pgDataDir: path.join(dir, 'pg'),
    pgPort: await freePort(),
    temporalPort: await freePort(),
    logDir: dir,
  });
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: infra.databaseUrl,
    TEMPORAL_ADDRESS: infra.temporalAddress,
    LOG_LEVEL: 'error',
  });
  const db = createDb(infra.databaseUrl, { max: opts.poolMax });
  // The routes measured here never call Temporal; a lazy connection costs nothing until used.
  const connection = Connection.lazy({ address: infra.temporalAddress });
  let app: FastifyInstance | undefined;
  let baseUrl: string | undefined;
  if (opts.api) {
    app = await buildApp({
      config,
      db,
      temporal: new Client({ connection, namespace: config.temporal.namespace }),
      logger: false,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }
  return {
    config,
    databaseUrl: infra.databaseUrl,
    db,
    baseUrl,
    async stop() {
      await app?.close();
      await connection.close();
      await db.destroy();
      await infra.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
