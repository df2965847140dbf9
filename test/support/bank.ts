// A real bank for tests: its own freshly migrated database on the test Postgres server, served over HTTP on a free port, polling fast.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import { buildBankApp } from '../../src/bank/app.js';
import { createBankClient } from '../../src/bank/client.js';
import { migrateBank } from '../../src/db/bank/migrate.js';
import { DEV_BANK_API_KEY, loadConfig } from '../../src/config.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import './context.js';

export interface TestBank {
  url: string;
  client: ReturnType<typeof createBankClient>;
  db: Knex;
  app: FastifyInstance;
  /** Pass it to another startTestBank to restart the bank over the same ledger. */
  databaseUrl: string;
  stop(): Promise<void>;
}

export interface TestBankOptions {
  webhookUrl: string;
  /** Defaults to the first of BANK_WEBHOOK_SECRETS, the secret a test stack's API accepts. */
  webhookSecret?: string;
  /** Defaults to a new database, so banks of test files running side by side never deliver each other's events. */
  databaseUrl?: string;
  pollIntervalMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Whether the bank opens test accounts (POST /accounts); true unless a test says otherwise. */
  testAccounts?: boolean;
}

export async function startTestBank(opts: TestBankOptions): Promise<TestBank> {
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl) {
    const serverUrl = inject('bankDatabaseUrl');
    const name = `bank_test_${randomBytes(6).toString('hex')}`;
    await ensureDatabase(withDatabase(serverUrl, 'postgres'), name);
    databaseUrl = withDatabase(serverUrl, name);
  }
  const db = createDb(databaseUrl);
  await migrateBank(db);
  const app = await buildBankApp({
    apiKey: DEV_BANK_API_KEY,
    testAccounts: opts.testAccounts ?? true,
    db,
    webhookUrl: opts.webhookUrl,
    webhookSecret: opts.webhookSecret ?? loadConfig().bank.webhookSecrets[0]!,
    // Failed deliveries are logged as warnings, and tests provoke them on purpose.
    logger: { level: 'error' },
    pollIntervalMs: opts.pollIntervalMs,
    retryBaseMs: opts.retryBaseMs ?? 50,
    retryMaxMs: opts.retryMaxMs ?? 500,
    deliveryTimeoutMs: 2_000,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    url,
    client: createBankClient(url),
    db,
    app,
    databaseUrl,
    async stop() {
      await app.close();
      await db.destroy();
    },
  };
}
