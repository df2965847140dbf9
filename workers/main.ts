// Worker process entry point: connects to Postgres and Temporal and runs until SIGTERM or SIGINT.
import { connectClient, MISSING_PAYLOAD_KEYS } from '../src/temporal.js';
import { ensureSchedules } from '../src/schedules.js';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/knex.js';
import { installWorkerTelemetry } from '../src/metrics/worker.js';
import { createWorker, prebuiltWorkflowBundle } from '../src/worker.js';
import { stopWhenLauncherExits } from '../src/launcher-watch.js';
import { startWebhookWaker } from '../src/webhooks/waker.js';
import { startTracing } from '../src/telemetry/tracing.js';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL is not set. Run the whole stack with `npm start`, or point DATABASE_URL at Postgres.');
  process.exit(1);
}
if (config.temporal.payloadKeys.length === 0) {
  console.error(MISSING_PAYLOAD_KEYS);
  process.exit(1);
}
// Before the logger and the database, bank and Temporal clients, so their lines carry trace ids and their calls are traced.
const tracing = startTracing({ serviceName: 'worker' });
// Before anything Temporal: the Runtime (logger, metrics exporter) is fixed once the first connection exists.
const telemetry = await installWorkerTelemetry(config);
const db = createDb(config.databaseUrl);
// A build loads the workflow bundle it made; the sources are bundled here, at start.
const workflowBundle = prebuiltWorkflowBundle(config);
const { worker, connection } = await createWorker({ config, db, workflowBundle });
// Started by `npm start`: shut down gracefully if the launcher dies without stopping us.
stopWhenLauncherExits();
const client = await connectClient(config);
await ensureSchedules(client, config.temporal.taskQueue);
// Wakes webhook endpoints' delivery workflows as their deliveries commit.
const webhookWaker = config.webhooks.waker
  ? startWebhookWaker({
      config,
      db,
      client,
      log: {
        warn: (fields, message) =>
          console.error(JSON.stringify({ level: 'warn', msg: message, ...fields, err: String(fields.err) })),
      },
    })
  : undefined;
const bundlePath = workflowBundle && 'codePath' in workflowBundle ? workflowBundle.codePath : null;
process.stdout.write(
  `${JSON.stringify({ ready: true, taskQueue: config.temporal.taskQueue, workflowBundle: bundlePath, metrics: telemetry.endpoints })}\n`,
);
try {
  // The SDK's runtime shuts the worker down on SIGTERM/SIGINT: it stops polling, lets running activities
  // finish for up to shutdownGraceTime (src/worker.ts), then cancels what is left and run() resolves.
  await worker.run();
} finally {
  await webhookWaker?.stop();
  await client.connection.close();
  await connection.close();
  await db.destroy();
  await telemetry.close();
  await tracing?.shutdown();
}
