// The real stack for benchmarks: its own Temporal dev server and Postgres on free ports, the bank, a worker and the API over HTTP.
import { Connection, type Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { buildApp } from '../../src/api/app.js';
import { buildBankApp } from '../../src/bank/app.js';
import { createBankClient, type BankClient } from '../../src/bank/client.js';
import { migrateBank } from '../../src/db/bank/migrate.js';
import { DEV_BANK_API_KEY, type Config } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import { freePort } from '../../src/dev/ports.js';
import { startBenchInfrastructure } from './infrastructure.js';
import type { Infrastructure } from '../../src/dev/stack.js';
import { startWebhookWaker } from '../../src/webhooks/waker.js';
import { temporalClient } from '../../src/temporal.js';
import { createWorker, workflowsPath } from '../../src/worker.js';
import { FAILURE_CONVERTER_PATH } from '../../src/payload-codec.js';

export interface BenchStack {
  config: Config;
  db: Knex;
  infra: Infrastructure;
  client: Client;
  baseUrl: string;
  bank: BankClient;
  worker: Worker;
  workerConnection: NativeConnection;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startBenchStack(
  /** webhookWaker: wake endpoints' delivery workflows as deliveries commit, as the worker process does. */
  opts: {
    workflows?: boolean;
    apiPoolMax?: number;
    webhookWaker?: boolean;
  } = {},
): Promise<BenchStack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const servers = await startBenchInfrastructure();
  const { infra, config } = servers;
  const db = createDb(infra.databaseUrl, { max: opts.apiPoolMax ?? 20 });
  const connection = await Connection.connect({ address: infra.temporalAddress });
  const client = temporalClient(config, connection);
  // The bank calls the API back (its webhooks) and the API calls the bank (accounts): the API's port is chosen first.
  const apiPort = await freePort();
  const baseUrl = `http://127.0.0.1:${apiPort}`;

  const bankDb = createDb(infra.bankDatabaseUrl, { max: 10 });
  await migrateBank(bankDb);
  const bankApp = await buildBankApp({
    apiKey: DEV_BANK_API_KEY,
    testAccounts: true,
    db: bankDb,
    webhookUrl: `${baseUrl}/v1/webhooks/bank`,
    webhookSecret: config.bank.webhookSecrets[0]!,
    logger: false,
  });
  await bankApp.listen({ port: 0, host: '127.0.0.1' });
  const bank = createBankClient(`http://127.0.0.1:${(bankApp.server.address() as { port: number }).port}`);
  const app: FastifyInstance = await buildApp({ config, db, temporal: client, bank, logger: false });
  await app.listen({ port: apiPort, host: '127.0.0.1' });

  const { code } = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('ERROR'),
  });
  const { worker, connection: workerConnection } = await createWorker({ config, db, bank, workflowBundle: { code } });
  const running = worker.run();
  const webhookWaker = opts.webhookWaker
    ? startWebhookWaker({
        config,
        db,
        client,
        log: { warn: (fields, message) => console.error(message, String(fields.err)) },
      })
    : undefined;

  return {
    config,
    db,
    infra,
    client,
    baseUrl,
    bank,
    worker,
    workerConnection,
    async stop() {
      await webhookWaker?.stop();
      worker.shutdown();
      await running;
      await bankApp.close();
      await app.close();
      await workerConnection.close();
      await connection.close();
      await bankDb.destroy();
      await db.destroy();
      await servers.stop();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Runs `task` for every index with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
