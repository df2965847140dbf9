// Builds the Temporal worker that runs the order workflows and their activities.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities/index.js';
import { createBankClient, type BankClient } from './bank/client.js';
import type { Config } from './config.js';
import { temporalAddress, temporalConnectionOptions } from './temporal.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function createWorker(opts: {
  config: Config;
  db: Knex;
  /** Defaults to a client of BANK_URL (or the bank the launcher starts on BANK_PORT). */
  bank?: BankClient;
  connection?: NativeConnection;
  /** A pre-built bundle (tests bundle once per run); otherwise the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config } = opts;
  const connection =
    opts.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config, temporalAddress(config))));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    activities: createActivities({ db: opts.db, bank: opts.bank ?? createBankClient(config.bank.url ?? `http://127.0.0.1:${config.bank.port}`) }),
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}
