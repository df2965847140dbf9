// Builds the Temporal worker that runs the order workflows and their activities.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities/index.js';
import { createBankClient, type BankClient } from './bank/client.js';
import { bankUrl, type Config } from './config.js';
import { temporalAddress, temporalConnectionOptions } from './temporal.js';

// The sources run as .ts under tsx and as .js once compiled into dist/.
const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
export const workflowsPath = fileURLToPath(new URL(`../workflows/index.${extension}`, import.meta.url));

/** The workflow bundle `npm run build` writes at the top of dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
const builtBundle = fileURLToPath(new URL(`../${WORKFLOW_BUNDLE_FILE}`, import.meta.url));

/**
 * The prebuilt workflow bundle to load: the one WORKFLOW_BUNDLE names, else the build's own beside the compiled code.
 * Undefined when running from source, where the worker bundles `workflows/` itself.
 */
export function prebuiltWorkflowBundle(config: Config): WorkerOptions['workflowBundle'] {
  if (config.workflowBundle) {
    if (!fs.existsSync(config.workflowBundle))
      throw new Error(`WORKFLOW_BUNDLE=${config.workflowBundle} does not exist; run \`npm run build\` or unset it.`);
    return { codePath: config.workflowBundle };
  }
  return extension === 'js' && fs.existsSync(builtBundle) ? { codePath: builtBundle } : undefined;
}

export async function createWorker(opts: {
  config: Config;
  db: Knex;
  /** Defaults to a client of BANK_URL (or the bank the launcher starts on BANK_PORT). */
  bank?: BankClient;
  connection?: NativeConnection;
  /** A pre-built bundle (tests bundle once per run, the build writes one); otherwise the worker bundles `workflows/` itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config } = opts;
  const workflowBundle = opts.workflowBundle ?? prebuiltWorkflowBundle(config);
  const connection =
    opts.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config, temporalAddress(config))));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    activities: createActivities({
      db: opts.db,
      bank: opts.bank ?? createBankClient(bankUrl(config), { apiKey: config.bank.apiKey }),
      webhooks: config.webhooks,
      events: config.events,
    }),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}
