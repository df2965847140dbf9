// A test's own slice of the real stack: a worker on its own task queue and the API over real HTTP.
import { randomUUID } from 'node:crypto';
import { Connection, type Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { provisionUser } from '../../src/auth/provisioning.js';
import { newToken } from '../../src/auth/tokens.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import { createRepositories } from '../../src/db/repositories/index.js';
import type { Role } from '../../src/db/repositories/users.js';
import type { BankClient } from '../../src/bank/client.js';
import { temporalClient } from '../../src/temporal.js';
import { createWorker } from '../../src/worker.js';
import { startWebhookWaker } from '../../src/webhooks/waker.js';
import { startTestBank } from './bank.js';
import './context.js';

export interface TestStack {
  baseUrl: string;
  db: Knex;
  client: Client;
  config: Config;
  worker: Worker;
  bank: BankClient;
  /** Sends a request to the API; JSON in and out. */
  api(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export async function startTestStack(
  overrides: Record<string, string> = {},
  /** Runs on the built app before it listens, to add a test's own hooks. */
  beforeListen?: (app: FastifyInstance) => void | Promise<void>,
  opts: {
    /**
     * Wake webhook endpoints' workflows as their deliveries commit. Off unless asked: the database is shared by every
     * test file, and a waker starts any endpoint's workflow on its own stack's task queue.
     */
    webhookWaker?: boolean;
    /** Where the API writes its JSON log lines (stdout otherwise). */
    logStream?: { write(line: string): void };
  } = {},
): Promise<TestStack> {
  const taskQueue = `test-${randomUUID()}`;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    ...overrides,
  });
  const db = createDb(config.databaseUrl!);
  const connection = await Connection.connect({ address: config.temporal.address! });
  const client = temporalClient(config, connection);
  // The bank starts once the API's address (its webhook's) is known; the API reaches it through this in the meantime.
  const late: { bank?: BankClient } = {};
  const lateBank = new Proxy({} as BankClient, {
    get: (_target, key) => late.bank?.[key as keyof BankClient],
  });
  const app = await buildApp({
    config,
    db,
    temporal: client,
    bank: lateBank,
    logger: { level: config.logLevel, ...(opts.logStream ? { stream: opts.logStream } : {}) },
  });
  await beforeListen?.(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // The bank answers charges through the API's signed webhook, as in production.
  const bank = await startTestBank({
    webhookUrl: `${baseUrl}/v1/webhooks/bank`,
    webhookSecret: config.bank.webhookSecrets[0]!,
  });
  late.bank = bank.client;
  const { worker, connection: workerConnection } = await createWorker({
    config,
    db,
    bank: bank.client,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  const running = worker.run();
  const webhookWaker = opts.webhookWaker ? startWebhookWaker({ config, db, client, log: app.log }) : undefined;

  return {
    baseUrl,
    db,
    client,
    config,
    worker,
    bank: bank.client,
    async api(method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${baseUrl}${url}`, {
        method,
        headers,
        body:
          opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      });
      return { status: res.status, body: await readBody(res), headers: res.headers };
    },
    async stop() {
      await webhookWaker?.stop();
      worker.shutdown();
      await running;
      await bank.stop();
      await app.close();
      await workerConnection.close();
      await connection.close();
      await db.destroy();
    },
  };
}

/** Creates a user with a fresh API token; owners and drivers may be given the locations they work at. */
export async function createUser(
  db: Knex,
  role: Role,
  opts: { locationIds?: string[]; name?: string; email?: string; password?: string } = {},
): Promise<{ id: string; token: string }> {
  const { id, token } = await provisionUser(createRepositories(db), {
    name: opts.name ?? `Test ${role}`,
    role,
    email: opts.email,
    password: opts.password,
    token: newToken(`test_${role}`),
    locationIds: opts.locationIds,
  });
  return { id, token };
}

/**
 * A fixed-offset time zone where it is now between 12:00 and 13:00. A test location (open 00:00 to 23:59 in its own
 * zone) is then hours from closing, so no lot is in its end-of-day discount by the time of day the test runs at.
 */
export function middayTimezone(now = new Date()): string {
  const offsetHours = 12 - now.getUTCHours();
  // The Etc zones count the other way: Etc/GMT-5 is five hours ahead of UTC.
  return offsetHours === 0 ? 'Etc/UTC' : `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;
}

export async function createLocation(
  db: Knex,
  fields: Partial<{ name: string; lat: number; lng: number; delivery_radius_m: number; kind: string }> = {},
): Promise<string> {
  const [row] = await db('locations')
    .insert({
      name: 'Test bakery',
      kind: 'bakery',
      lat: 51.5,
      lng: -0.1,
      delivery_radius_m: 5000,
      timezone: middayTimezone(),
      ...fields,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

export async function createProduct(
  db: Knex,
  fields: Partial<{ name: string; price_cents: number; shelf_life_minutes: number; eod_discount_percent: number }> = {},
): Promise<string> {
  const [row] = await db('products')
    .insert({ name: 'Test bun', price_cents: 300, shelf_life_minutes: 600, ...fields })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/** A customer with a bank account holding `balanceCents`; `behavior` makes the bank decline or stay silent. */
export async function createCustomer(
  stack: TestStack,
  opts: { balanceCents?: number; behavior?: 'normal' | 'decline' | 'silent' } = {},
): Promise<{ id: string; token: string; accountId: string }> {
  const user = await createUser(stack.db, 'customer');
  const account = await stack.bank.createAccount({
    holderName: `Customer ${user.id}`,
    balanceCents: opts.balanceCents ?? 100_000,
    behavior: opts.behavior ?? 'normal',
    decisionDelayMs: 0,
  });
  await stack.db('users').where({ id: user.id }).update({ bank_account_id: account.id });
  return { ...user, accountId: account.id };
}

/** An open slot starting `startsInMs` from now, one hour long. */
/**
 * An order recorded as placed (its read model row, lines and placement event), as the saga's first step writes it,
 * without a workflow: for tests of the read model's later steps. Returns its id.
 */
export async function recordPlacedOrder(
  db: Knex,
  opts: { locationId: string; lines?: { productId: string; quantity: number; unitPriceCents: number }[] },
): Promise<string> {
  const { createOrderActivities } = await import('../../activities/orders.js');
  const orderId = randomUUID();
  await createOrderActivities(db).recordOrderPlaced({
    orderId,
    customerId: (await createUser(db, 'customer')).id,
    locationId: opts.locationId,
    slotId: await createSlot(db, opts.locationId),
    slotStartsAt: new Date().toISOString(),
    slotEndsAt: new Date().toISOString(),
    lines: opts.lines ?? [{ productId: await createProduct(db), quantity: 1, unitPriceCents: 100 }],
    address: { lat: 51.5, lng: -0.1, line1: 'x' },
    bankAccountId: 'a',
    paymentTimeoutMs: 1,
  });
  return orderId;
}

export async function createSlot(
  db: Knex,
  locationId: string,
  opts: { startsInMs?: number; capacity?: number; cutoffBeforeMs?: number } = {},
): Promise<string> {
  const startsAt = new Date(Date.now() + (opts.startsInMs ?? 3 * 3_600_000));
  const [row] = await db('slots')
    .insert({
      location_id: locationId,
      starts_at: startsAt,
      ends_at: new Date(startsAt.getTime() + 3_600_000),
      capacity: opts.capacity ?? 10,
      cutoff_at: new Date(startsAt.getTime() - (opts.cutoffBeforeMs ?? 15 * 60_000)),
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

/** Polls until `ok` holds or the time is up, and returns the last value either way for the assertion to judge. */
export async function eventually<T>(fn: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A response body as JSON when it is JSON, as text otherwise. */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}
