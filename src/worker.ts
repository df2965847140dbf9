// Builds the Temporal worker that runs the order workflows and their activities.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createActivities } from '../activities/index.js';
import { createBankClient, type BankClient } from './bank/client.js';
import { bankUrl, type Config } from './config.js';
import { temporalAddress, temporalConnectionOptions, temporalDataConverter } from './temporal.js';
import { tracingWorkerOptions } from './telemetry/temporal.js';
import { activeTracing } from './telemetry/tracing.js';

// The sources run as .ts under tsx and as .js once compiled into dist/.
const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
export const workflowsPath = fileURLToPath(new URL(`../workflows/index.${extension}`, import.meta.url));

/** The workflow bundle `npm run build` writes at the top of dist/. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
/**
 * The same workflows with OpenTelemetry's workflow interceptors, loaded when tracing is on. Every workflow the worker
 * starts runs its bundle's modules afresh, so the interceptors (twice the bundle) cost nothing unless traces are wanted.
 */
export const TRACED_WORKFLOW_BUNDLE_FILE = 'workflow-bundle-traced.js';
const builtBundle = (file: string) => fileURLToPath(new URL(`../${file}`, import.meta.url));

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
  const built = builtBundle(activeTracing() ? TRACED_WORKFLOW_BUNDLE_FILE : WORKFLOW_BUNDLE_FILE);
  return extension === 'js' && fs.existsSync(built) ? { codePath: built } : undefined;
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
  // Before connecting: without a key (production without PAYLOAD_CODEC_KEYS) the worker does not start.
  const dataConverter = temporalDataConverter(config);
  const connection =
    opts.connection ?? (await NativeConnection.connect(temporalConnectionOptions(config, temporalAddress(config))));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
    // The codec runs here, in the worker's main thread, outside the workflow sandbox.
    dataConverter,
    activities: createActivities({
      db: opts.db,
      bank: opts.bank ?? createBankClient(bankUrl(config), { apiKey: config.bank.apiKey }),
      webhooks: config.webhooks,
      events: config.events,
    }),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    ...tracingWorkerOptions({ bundling: !workflowBundle }),
    shutdownGraceTime: '10 seconds',
  });
  return { worker, connection };
}
