// Bank process entry point: migrates the bank's own database, listens on BANK_PORT, and drains on SIGTERM.
import closeWithGrace from 'close-with-grace';
import { loadConfig } from '../config.js';
import { createDb } from '../db/knex.js';
import { buildBankApp } from './app.js';
import { migrateBank } from '../db/bank/migrate.js';
import { stopWhenLauncherExits } from '../launcher-watch.js';
import { startTracing } from '../telemetry/tracing.js';

const config = loadConfig();
// The launcher passes BANK_DATABASE_URL beside the API's DATABASE_URL; a standalone bank gets its own DATABASE_URL.
const databaseUrl = process.env.BANK_DATABASE_URL || process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'Neither BANK_DATABASE_URL nor DATABASE_URL is set: the bank needs its own Postgres database. Run the whole stack with `npm start`.',
  );
  process.exit(1);
}
const webhookUrl = process.env.WEBHOOK_URL || `http://127.0.0.1:${config.port}/v1/webhooks/bank`;
const [webhookSecret] = config.bank.webhookSecrets;
if (!webhookSecret) {
  console.error('BANK_WEBHOOK_SECRETS is empty: the bank signs every webhook with the first secret in it.');
  process.exit(1);
}

// Before the database client, so its queries are traced.
const tracing = startTracing({ serviceName: 'bank' });
const db = createDb(databaseUrl, { max: 5 });
await migrateBank(db);
const app = await buildBankApp({
  db,
  webhookUrl,
  webhookSecret,
  apiKey: config.bank.apiKey,
  testAccounts: config.bank.testAccounts,
  logger: { level: config.logLevel },
});
// Started by `npm start`: shut down gracefully if the launcher dies without stopping us.
stopWhenLauncherExits();

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing after an error');
  // Stops taking requests and waits for the decision and delivery pass in progress; the rest waits in the database.
  await app.close();
  await db.destroy();
  await tracing?.shutdown();
});

try {
  await app.listen({ port: config.bank.port, host: config.host });
} catch (err) {
  if ((err as { code?: string }).code === 'EADDRINUSE') {
    console.error(
      `Port ${config.bank.port} is already in use, so the bank cannot start. Stop whatever listens there, or choose another port with BANK_PORT=<port>.`,
    );
  } else {
    console.error(err);
  }
  await db.destroy();
  process.exit(1);
}
process.stdout.write(
  `${JSON.stringify({ ready: true, port: (app.server.address() as { port: number }).port, webhookUrl })}\n`,
);
