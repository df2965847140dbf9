// API process entry point: builds the app over Postgres and Temporal, listens on PORT, and drains on SIGTERM.
import { Connection } from '@temporalio/client';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './api/app.js';
import { loadConfig } from './config.js';
import { createDb } from './db/knex.js';
import { MISSING_PAYLOAD_KEYS, temporalAddress, temporalClient, temporalConnectionOptions } from './temporal.js';
import { stopWhenLauncherExits } from './launcher-watch.js';
import { startTracing } from './telemetry/tracing.js';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL is not set. Run the whole stack with `npm start`, or point DATABASE_URL at Postgres.');
  process.exit(1);
}
if (config.temporal.payloadKeys.length === 0) {
  console.error(MISSING_PAYLOAD_KEYS);
  process.exit(1);
}
// Before the database and Temporal clients, so their calls are traced.
const tracing = startTracing({ serviceName: 'api' });
const db = createDb(config.databaseUrl);
// Lazy: the API comes up even while Temporal is down, and /readyz says so.
const connection = Connection.lazy(temporalConnectionOptions(config, temporalAddress(config)));
const temporal = temporalClient(config, connection);
const app = await buildApp({ config, db, temporal });
// Started by `npm start`: shut down gracefully if the launcher dies without stopping us.
stopWhenLauncherExits();

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  await app.close();
  await connection.close();
  await db.destroy();
  await tracing?.shutdown();
});

try {
  await app.listen({ port: config.port, host: config.host });
} catch (err) {
  if ((err as { code?: string }).code === 'EADDRINUSE') {
    console.error(
      `Port ${config.port} is already in use, so the API cannot start. Stop whatever listens there, or choose another port with PORT=<port>.`,
    );
  } else {
    console.error(err);
  }
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ ready: true, port: (app.server.address() as { port: number }).port })}\n`);
