// Operations on the real stack: metrics that move with an order, logs that follow one order across API, worker and bank, and bounded shutdown of the API and worker processes on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Connection, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { buildBankApp } from '../../src/bank/app.js';
import { createBankClient } from '../../src/bank/client.js';
import { migrateBank } from '../../src/db/bank/migrate.js';
import { DEV_BANK_API_KEY, loadConfig, type Config } from '../../src/config.js';
import { temporalClient } from '../../src/temporal.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import { freePort } from '../../src/dev/ports.js';
import { SLOT_PLANNER_SCHEDULE_ID } from '../../src/schedules.js';
import { createWorker } from '../../src/worker.js';
import { openSse } from '../support/sse.js';
import { createLocation, createProduct, createSlot, createUser, eventually } from '../support/stack.js';
import '../support/context.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Bound for the API process, SIGTERM to exit: close-with-grace would force it at 10 s (and exit 1), so a clean close is far quicker. */
const API_SHUTDOWN_BOUND_MS = 5_000;
/** The worker's shutdownGraceTime (src/worker.ts) plus the time to close its connections. */
const WORKER_SHUTDOWN_BOUND_MS = 12_000;

interface Process {
  child: ChildProcess;
  /** Every stdout line: the JSON log of the process. */
  lines: string[];
  ready: Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs an entry point from source as one node process (tsx as a loader, no wrapper), so signals reach our code directly, as they reach `node dist/...` in docker-compose.yml. */
function startProcess(entry: string, env: NodeJS.ProcessEnv): Process {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('{"ready"')) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then(({ code }) => reject(new Error(`${entry} exited with ${code} before it was ready: ${stderr}`)));
  });
  return { child, lines, ready, exited };
}

/** Sums the samples of one metric whose labels include all of `labels`; absent is 0. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([key, value]) =>
      (match[3] ?? '').split(/,(?=\w+=")/).includes(`${key}="${value}"`),
    );
    if (has) sum += Number(match[4]);
  }
  return sum;
}

async function scrape(url: string): Promise<{ text: string; contentType: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return { text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** Stands in front of the bank and can hold a charge request, to catch the worker in the middle of a bank call. */
async function startBankProxy(bankUrl: string) {
  const state = { chargeDelayMs: 0, onCharge: undefined as ((reference: string) => void) | undefined };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const isCharge = request.method === 'POST' && request.url === '/charges';
      if (isCharge) state.onCharge?.((JSON.parse(Buffer.concat(chunks).toString()) as { reference: string }).reference);
      setTimeout(
        () => {
          const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
          fetch(`${bankUrl}${request.url}`, {
            method: request.method,
            headers: {
              ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
              ...(body ? { 'content-type': 'application/json' } : {}),
            },
            body,
          })
            .then(async (res) =>
              response
                .writeHead(res.status, { 'content-type': 'application/json' })
                .end(Buffer.from(await res.arrayBuffer())),
            )
            .catch(() => response.writeHead(502).end());
        },
        isCharge ? state.chargeDelayMs : 0,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function lineCollector(into: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      into.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
}

const parsed = (lines: string[]) =>
  lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

let config: Config;
let db: Knex;
let bankDb: Knex;
let client: Client;
let app: FastifyInstance;
let baseUrl: string;
let bankApp: FastifyInstance;
let proxy: Awaited<ReturnType<typeof startBankProxy>>;
let worker: Process;
let workerMetrics: { sdk: string; app: string };
const apiLog: string[] = [];
const bankLog: string[] = [];

let locationId: string;
let slotId: string;
let productId: string;
let customer: { id: string; token: string };
let placedOrderId: string;
const requestId = `ops-${randomUUID()}`;

function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // The database is shared with every test file: this worker's waker would start their endpoints' delivery
    // workflows on this task queue, under this process's webhook settings.
    WEBHOOK_WAKER: 'false',
    ...extra,
  };
}

function orderBody(quantity: number) {
  return {
    locationId,
    slotId,
    items: [{ productId, quantity }],
    address: { lat: 51.5, lng: -0.1, line1: '1 Ops Street' },
  };
}

async function placeOrder(quantity: number, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${customer.token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(orderBody(quantity)),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  config = loadConfig({
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `ops-${randomUUID()}`,
  });
  db = createDb(config.databaseUrl!);
  client = temporalClient(config, await Connection.connect({ address: config.temporal.address! }));
  app = await buildApp({
    config,
    db,
    temporal: client,
    logger: { level: 'info', stream: lineCollector(apiLog) },
    metrics: { ordersByStatusCacheMs: 0 },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const bankDatabase = `bank_ops_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(withDatabase(inject('bankDatabaseUrl'), 'postgres'), bankDatabase);
  bankDb = createDb(withDatabase(inject('bankDatabaseUrl'), bankDatabase));
  await migrateBank(bankDb);
  bankApp = await buildBankApp({
    apiKey: DEV_BANK_API_KEY,
    testAccounts: true,
    db: bankDb,
    webhookUrl: `${baseUrl}/v1/webhooks/bank`,
    webhookSecret: config.bank.webhookSecrets[0]!,
    logger: { level: 'info', stream: lineCollector(bankLog) },
    pollIntervalMs: 20,
    retryBaseMs: 50,
    retryMaxMs: 500,
    deliveryTimeoutMs: 2_000,
  });
  await bankApp.listen({ port: 0, host: '127.0.0.1' });
  const bankUrl = `http://127.0.0.1:${(bankApp.server.address() as AddressInfo).port}`;
  proxy = await startBankProxy(bankUrl);

  worker = startProcess(
    'workers/main.ts',
    processEnv({
      BANK_URL: proxy.url,
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_APP_METRICS_PORT: String(await freePort()),
    }),
  );
  const ready = await worker.ready;
  workerMetrics = ready.metrics as { sdk: string; app: string };

  locationId = await createLocation(db);
  productId = await createProduct(db, { name: 'Ops bun', price_cents: 250 });
  slotId = await createSlot(db, locationId, { capacity: 50 });
  const owner = await createUser(db, 'owner', { locationIds: [locationId] });
  const stocked = await fetch(`${baseUrl}/v1/locations/${locationId}/stock`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ productId, quantity: 10 }),
  });
  expect(stocked.status).toBe(201);
  customer = await createUser(db, 'customer');
  const account = await createBankClient(bankUrl).createAccount({
    holderName: 'Ops customer',
    balanceCents: 100_000,
    decisionDelayMs: 0,
  });
  await db('users').where({ id: customer.id }).update({ bank_account_id: account.id });
}, 240_000);

afterAll(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  // The worker registers the slot planner for its own task queue when none exists; leave no schedule pointing at a queue nobody polls.
  const planner = client?.schedule.getHandle(SLOT_PLANNER_SCHEDULE_ID);
  const description = await planner?.describe().catch(() => undefined);
  if (description?.action.type === 'startWorkflow' && description.action.taskQueue === config.temporal.taskQueue)
    await planner!.delete();
  await app?.close();
  await bankApp?.close();
  await proxy?.close();
  await bankDb?.destroy();
  await client?.connection.close();
  await db?.destroy();
});

describe('metrics', () => {
  it('moves the API metrics when an order is placed and when one is refused', async () => {
    const before = (await scrape(`${baseUrl}/metrics`)).text;

    const placed = await placeOrder(2, { 'x-request-id': requestId });
    expect(placed.status).toBe(201);
    placedOrderId = placed.body.id as string;
    const refused = await placeOrder(50);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('out_of_stock');
    await eventually(
      () => db('orders').where({ id: placedOrderId }).first<{ status: string }>('status'),
      (row) => row?.status === 'confirmed',
    );

    const { text: after, contentType } = await scrape(`${baseUrl}/metrics`);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    // Labelled by the route pattern, never the URL with its ids.
    expect(
      delta('http_request_duration_seconds_count', { method: 'POST', route: '/v1/orders', status_code: '201' }),
    ).toBe(1);
    expect(
      delta('http_request_duration_seconds_count', { method: 'POST', route: '/v1/orders', status_code: '409' }),
    ).toBe(1);
    expect(after).not.toContain(placedOrderId);
    expect(delta('order_refusals_total', { reason: 'out_of_stock' })).toBe(1);
    expect(sample(before, 'order_refusals_total', { reason: 'slot_full' })).toBe(0);
    expect(after).toContain('order_refusals_total{reason="slot_full"} 0');
    // Other test files add orders to the same database at the same time, so the totals can only be bounded below.
    expect(delta('orders_by_status')).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'orders_by_status', { status: 'confirmed' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'orders_by_status', { status: 'rejected' })).toBeGreaterThanOrEqual(1);
    // Every status has a series, zero or not, so an alert on one never waits for its first order.
    expect(after).toMatch(/^orders_by_status\{status="out_for_delivery"\} \d+$/m);
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts the live streams this process holds open', async () => {
    const streams = await Promise.all([
      openSse(`${baseUrl}/v1/board/${locationId}/events`),
      openSse(`${baseUrl}/v1/locations/${locationId}/slots/events`),
    ]);
    await Promise.all(streams.map((stream) => stream.waitFor((e) => e.event === 'snapshot')));
    const open = (await scrape(`${baseUrl}/metrics`)).text;
    expect(sample(open, 'sse_open_streams')).toBe(2);
    expect(sample(open, 'events_fanout_connected')).toBe(1);
    for (const stream of streams) stream.close();
    const closed = await eventually(
      async () => sample((await scrape(`${baseUrl}/metrics`)).text, 'sse_open_streams'),
      (n) => n === 0,
    );
    expect(closed).toBe(0);
  });

  it('answers a scrape only with the metrics token when METRICS_TOKEN is set', async () => {
    const guarded = await buildApp({
      config: { ...config, metricsToken: 'scrape-secret-42' },
      db,
      temporal: client,
      logger: { level: 'warn' },
    });
    try {
      const scrapeWith = (authorization?: string) =>
        guarded.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
      for (const header of [
        undefined,
        'Bearer wrong-secret',
        'Bearer scrape-secret-4',
        'Basic scrape-secret-42',
        `Bearer ${customer.token}`,
      ]) {
        const refused = await scrapeWith(header);
        expect({ header, status: refused.statusCode }).toEqual({ header, status: 401 });
        expect(refused.json()).toMatchObject({ error: 'unauthorized' });
        expect(refused.body).not.toContain('http_request_duration_seconds');
      }
      const allowed = await scrapeWith('Bearer scrape-secret-42');
      expect(allowed.statusCode).toBe(200);
      expect(allowed.body).toContain('http_request_duration_seconds');
    } finally {
      await guarded.close();
    }
    // Without the setting (as in dev) it stays open, whatever the Authorization header says.
    expect((await fetch(`${baseUrl}/metrics`, { headers: { authorization: 'Bearer anything' } })).status).toBe(200);
  });

  it("serves the worker's Temporal SDK metrics and its bank latency", async () => {
    const sdk = (await scrape(workerMetrics.sdk)).text;
    const queue = { task_queue: config.temporal.taskQueue };
    expect(
      sample(sdk, 'temporal_worker_task_slots_available', { ...queue, worker_type: 'WorkflowWorker' }),
    ).toBeGreaterThan(0);
    expect(sample(sdk, 'temporal_workflow_task_execution_latency_count', queue)).toBeGreaterThan(0);
    expect(sdk).toMatch(/^temporal_sticky_cache_size\{/m);

    const own = (await scrape(workerMetrics.app)).text;
    expect(
      sample(own, 'bank_request_duration_seconds_count', { operation: 'requestCharge', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(own, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('follow one order by its id through the API, the worker and the bank', async () => {
    const workflowId = `order-${placedOrderId}`;
    const api = parsed(apiLog).filter((line) => JSON.stringify(line).includes(placedOrderId));
    // The placing request: Fastify's own line carries the caller's request id and the order.
    expect(api).toContainEqual(
      expect.objectContaining({ msg: 'request completed', reqId: requestId, orderId: placedOrderId, workflowId }),
    );
    // The bank's answer arriving by webhook.
    expect(api).toContainEqual(expect.objectContaining({ msg: 'bank event handled', workflowId }));

    const workerLines = parsed(worker.lines).filter((line) => line.orderId === placedOrderId);
    expect(workerLines).toContainEqual(
      expect.objectContaining({ msg: 'bank charge requested', workflowId, service: 'worker' }),
    );
    expect(workerLines).toContainEqual(
      expect.objectContaining({ msg: 'order status recorded', status: 'confirmed', workflowId }),
    );

    const bank = parsed(bankLog).filter((line) => line.reference === placedOrderId);
    expect(bank.map((line) => line.msg)).toEqual(expect.arrayContaining(['charge requested', 'webhook delivered']));
  });
});

describe('graceful shutdown on SIGTERM', () => {
  it('the API process ends its open streams and exits well within its grace period', async () => {
    const port = await freePort();
    const api = startProcess('src/server.ts', processEnv({ PORT: String(port), LOG_LEVEL: 'warn' }));
    await api.ready;
    const base = `http://127.0.0.1:${port}`;
    const streams = await Promise.all([
      openSse(`${base}/v1/board/${locationId}/events`),
      openSse(`${base}/v1/locations/${locationId}/slots/events`),
      openSse(`${base}/v1/orders/${placedOrderId}/events`, { headers: { authorization: `Bearer ${customer.token}` } }),
    ]);
    expect(streams.map((stream) => stream.status)).toEqual([200, 200, 200]);
    await eventually(
      async () => sample((await scrape(`${base}/metrics`)).text, 'sse_open_streams'),
      (n) => n === 3,
    );

    const started = Date.now();
    api.child.kill('SIGTERM');
    const exit = await api.exited;
    expect(Date.now() - started).toBeLessThan(API_SHUTDOWN_BOUND_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    await Promise.all(streams.map((stream) => stream.ended));
  });

  it('the worker process lets the bank call in progress finish, then exits within its grace period', async () => {
    const holdMs = 2_000;
    proxy.state.chargeDelayMs = holdMs;
    const chargeArrived = new Promise<string>((resolve) => (proxy.state.onCharge = resolve));
    const placing = placeOrder(1);
    const orderId = await chargeArrived;

    const started = Date.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    const tookMs = Date.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(WORKER_SHUTDOWN_BOUND_MS);
    // It waited for the call rather than abandoning it: the activity logged the bank's answer before the process ended.
    expect(parsed(worker.lines)).toContainEqual(
      expect.objectContaining({ msg: 'bank charge requested', orderId, workflowId: `order-${orderId}` }),
    );
    expect(tookMs).toBeGreaterThanOrEqual(holdMs - 500);

    // Nothing is lost: another worker on the queue takes the order on to its answer.
    proxy.state.chargeDelayMs = 0;
    const replacement = await createWorker({
      config,
      db,
      bank: createBankClient(proxy.url),
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    try {
      const placed = await replacement.worker.runUntil(placing);
      expect(placed.status).toBe(201);
      expect(placed.body.id).toBe(orderId);
    } finally {
      await replacement.connection.close();
    }
  }, 90_000);
});
