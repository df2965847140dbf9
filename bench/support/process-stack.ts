// The topology `npm start` runs, for benchmarks: Postgres and a Temporal dev server, then the bank, the worker and the
// API each in a process of its own, started as the launcher starts them. The bench that drives it is the load
// generator, in a process of its own too; every role's CPU can be read from its process group.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createBankClient, type BankClient } from '../../src/bank/client.js';
import { DEV_BANK_API_KEY, loadConfig } from '../../src/config.js';
import { createDb, withDatabase } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { freePort } from '../../src/dev/ports.js';
import { spawnTs, startEmbeddedPostgres, type TsChild } from '../../src/dev/processes.js';
import { findTemporalCli, startDevServer } from '../../src/dev/temporal.js';
import { temporalClient } from '../../src/temporal.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessStack {
  db: Knex;
  baseUrl: string;
  bank: BankClient;
  client: Client;
  temporalAddress: string;
  /** The root process of each role (api, worker, bank, postgres, temporal here), for CPU readings of its tree. */
  roots: Record<string, number>;
  /** Every API replica, when there are several; customer n uses baseUrls[n % length]. */
  baseUrls?: string[];
  /** Logs of every process. */
  dir: string;
  /** Starts one more process on the stack's servers (e.g. a baseline worker); stopped with the stack. */
  spawn(name: string, entry: string, env?: NodeJS.ProcessEnv): Promise<TsChild>;
  stop(): Promise<void>;
}

export async function startProcessStack(
  opts: {
    env?: NodeJS.ProcessEnv;
    /** Node flags for the API, worker and bank processes. */
    nodeArgs?: string[];
    log?: (m: string) => void;
  } = {},
) {
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-'));
  // Postgres runs as its own unprivileged user when we are root, and must reach its data directory.
  fs.chmodSync(dir, 0o755);
  const [pgPort, temporalPort, apiPort, bankPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const base = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: 'error' });
  const children: TsChild[] = [];
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    for (const s of stops.reverse()) await s().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [postgres, temporal] = await Promise.all([
      startEmbeddedPostgres({
        dataDir: path.join(dir, 'pg'),
        port: pgPort,
        databases: ['app', 'bank'],
        logFile: path.join(dir, 'postgres.log'),
      }),
      findTemporalCli(base).then((cliPath) =>
        startDevServer({
          cliPath,
          port: temporalPort,
          namespace: base.temporal.namespace,
          logFile: path.join(dir, 'temporal.log'),
        }),
      ),
    ]);
    stops.push(
      () => temporal.stop(),
      () => postgres.child.stop(),
    );
    const databaseUrl = `${postgres.url}/app`;
    const db = createDb(databaseUrl, { max: 5 });
    stops.splice(0, 0, () => db.destroy());
    await migrateLatest(db);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      BANK_DATABASE_URL: withDatabase(databaseUrl, 'bank'),
      TEMPORAL_ADDRESS: temporal.address,
      PORT: String(apiPort),
      BANK_PORT: String(bankPort),
      BANK_URL: `http://127.0.0.1:${bankPort}`,
      WEBHOOK_URL: `http://127.0.0.1:${apiPort}/v1/webhooks/bank`,
      // Fixed metrics ports would collide with a stack already running on this machine.
      WORKER_METRICS_PORT: '0',
      WORKER_APP_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      // The bench's customers are few and busy: the per-customer rate limit is not what is measured.
      RATE_LIMIT_ORDERS_PER_MINUTE: '1000000',
      ...opts.env,
    };
    const spawn = async (name: string, entry: string, extra: NodeJS.ProcessEnv = {}) => {
      const child = spawnTs(name, path.join(root, entry), {
        env: { ...env, ...extra },
        logFile: path.join(dir, `${name}.log`),
        nodeArgs: opts.nodeArgs,
      });
      children.push(child);
      await child.ready(180_000);
      return child;
    };
    const [bankChild, workerChild, apiChild] = await Promise.all([
      spawn('bank', 'src/bank/server.ts'),
      spawn('worker', 'workers/main.ts'),
      spawn('api', 'src/server.ts'),
    ]);
    const connection = await Connection.connect({ address: temporal.address });
    stops.splice(0, 0, () => connection.close());
    log(`stack up; logs in ${dir}`);
    const stack: ProcessStack = {
      db,
      baseUrl: `http://127.0.0.1:${apiPort}`,
      bank: createBankClient(env.BANK_URL!, { apiKey: DEV_BANK_API_KEY }),
      client: temporalClient(base, connection),
      temporalAddress: temporal.address,
      roots: {
        api: apiChild.process.pid!,
        worker: workerChild.process.pid!,
        bank: bankChild.process.pid!,
        postgres: postgres.child.process.pid!,
        temporal: temporal.process.pid!,
      },
      dir,
      spawn,
      stop,
    };
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}
