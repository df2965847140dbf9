// `npm run chaos`: orders with mixed outcomes in flight while the worker is killed, Temporal, Postgres and the API restart; then every order is checked.
// `npm run chaos -- --cluster`: the same on the production topology of `npm run cluster`, with its own faults.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { provisionUser } from '../src/auth/provisioning.js';
import { newToken } from '../src/auth/tokens.js';
import { createRepositories } from '../src/db/repositories/index.js';
import type { Role } from '../src/domain/vocabulary.js';
import { createBankClient, type BankClient } from '../src/bank/client.js';
import { DEV_BANK_API_KEY, loadConfig } from '../src/config.js';
import { createDb, withDatabase } from '../src/db/knex.js';
import { migrateLatest } from '../src/db/migrate.js';
import { checkInventoryInvariants } from '../src/db/invariants.js';
import { isStreaming } from '../src/dev/cluster-postgres.js';
import { startCluster, type Cluster, type ClusterProcessName } from '../src/dev/cluster-stack.js';
import { freeLowPort, freePort } from '../src/dev/ports.js';
import { spawnTs, startEmbeddedPostgres, type TsChild } from '../src/dev/processes.js';
import { findTemporalCli, startDevServer, type DevServer } from '../src/dev/temporal.js';
import { openSse, type SseClient } from '../test/support/sse.js';
import { numberFlag } from './support/args.js';
import { startChaosWebhooks, type ChaosWebhookSummary } from './support/chaos-webhooks.js';

type Scenario =
  'delivered' | 'insufficient_funds' | 'declined' | 'bank_silent' | 'cancel_before_payment' | 'cancel_after_payment';
const SCENARIOS: Scenario[] = [
  'delivered',
  'insufficient_funds',
  'declined',
  'bank_silent',
  'cancel_before_payment',
  'cancel_after_payment',
  'delivered',
];
const EXPECTED: Record<Scenario, { status: string; reason: string | null; money: 'captured' | 'returned' }> = {
  delivered: { status: 'completed', reason: null, money: 'captured' },
  insufficient_funds: { status: 'payment_failed', reason: 'insufficient_funds', money: 'returned' },
  declined: { status: 'payment_failed', reason: 'declined', money: 'returned' },
  bank_silent: { status: 'payment_failed', reason: 'payment_timeout', money: 'returned' },
  cancel_before_payment: { status: 'cancelled', reason: 'customer_cancelled', money: 'returned' },
  cancel_after_payment: { status: 'cancelled', reason: 'customer_cancelled', money: 'returned' },
};
/** The statuses each scenario passes through, in order, as its event stream must show them. */
const PATH: Record<Scenario, string[]> = {
  delivered: ['placed', 'awaiting_payment', 'confirmed', 'prepping', 'prepped', 'out_for_delivery', 'completed'],
  insufficient_funds: ['placed', 'awaiting_payment', 'payment_failed'],
  declined: ['placed', 'awaiting_payment', 'payment_failed'],
  bank_silent: ['placed', 'awaiting_payment', 'payment_failed'],
  cancel_before_payment: ['placed', 'awaiting_payment', 'cancelled'],
  cancel_after_payment: ['placed', 'awaiting_payment', 'confirmed', 'cancelled'],
};

export interface ChaosOptions {
  orders: number;
  concurrency: number;
  workerKills: number;
  /** Upper bound for the whole run, after which unfinished orders count as lost. */
  deadlineMs: number;
  log?: (message: string) => void;
}

export interface ChaosResult {
  bench: 'chaos';
  orders: number;
  lost: number;
  inconsistent: number;
  kills: number;
  /** Restarts by part (temporal, postgres, api, worker on the dev server; each process's name on the cluster). */
  restarts: Record<string, number>;
  /** The faults in the order they were done. */
  faults: string[];
  problems: string[];
  byScenario: Record<string, { orders: number; ok: number }>;
  streams: { opened: number; reconnects: number; missing: number };
  /** The webhook endpoint whose receiver is killed and restarted: every order event must reach it, in order. */
  webhooks: Omit<ChaosWebhookSummary, 'problems'>;
  seconds: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries an action through outages: network errors and 5xx are tried again until the deadline. */
async function persist<T>(what: string, deadline: number, action: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(attempt, 5)));
    }
  }
}

class Retryable extends Error {}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? ((m: string) => console.error(`[chaos] ${m}`));
  const started = Date.now();
  const deadline = started + opts.deadlineMs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-chaos-'));
  fs.chmodSync(dir, 0o755);
  const [pgPort, temporalPort, apiPort, bankPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const base = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' });
  const pgDir = path.join(dir, 'pg');
  const temporalDb = path.join(dir, 'temporal.db');
  const cli = await findTemporalCli(base);
  const restarts: Record<string, number> = { temporal: 0, postgres: 0, api: 0, worker: 0 };
  let kills = 0;

  const startPostgres = () =>
    startEmbeddedPostgres({
      dataDir: pgDir,
      port: pgPort,
      databases: ['app', 'bank'],
      logFile: path.join(dir, 'postgres.log'),
    });
  const startTemporal = () =>
    startDevServer({
      cliPath: cli,
      port: temporalPort,
      dbFile: temporalDb,
      namespace: base.temporal.namespace,
      logFile: path.join(dir, 'temporal.log'),
    });
  let postgres = await startPostgres();
  let temporal: DevServer = await startTemporal();
  const databaseUrl = `${postgres.url}/app`;
  const db: Knex = createDb(databaseUrl, { max: 5 });
  await migrateLatest(db);

  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    BANK_DATABASE_URL: withDatabase(databaseUrl, 'bank'),
    TEMPORAL_ADDRESS: temporal.address,
    PORT: String(apiPort),
    BANK_PORT: String(bankPort),
    // Metrics are not under test, and fixed ports would collide with a stack already running on this machine.
    WORKER_METRICS_PORT: '0',
    WORKER_APP_METRICS_PORT: '0',
    BANK_URL: `http://127.0.0.1:${bankPort}`,
    WEBHOOK_URL: `http://127.0.0.1:${apiPort}/v1/webhooks/bank`,
    ...CHAOS_APP_ENV,
  };
  const spawn = (name: string, entry: string) =>
    spawnTs(name, path.join(root, entry), { env, logFile: path.join(dir, `${name}.log`) });
  const processes: Record<'bank' | 'worker' | 'api', TsChild> = {
    bank: spawn('bank', 'src/bank/server.ts'),
    worker: spawn('worker', 'workers/main.ts'),
    api: spawn('api', 'src/server.ts'),
  };
  await Promise.all(Object.values(processes).map((p) => p.ready(120_000)));
  const bank = createBankClient(env.BANK_URL, { apiKey: DEV_BANK_API_KEY });
  log(`stack up in ${Math.round((Date.now() - started) / 1000)} s; logs in ${dir}`);

  const restart = async (name: 'worker' | 'api', signal: 'SIGKILL' | 'SIGTERM') => {
    const child = processes[name];
    if (signal === 'SIGKILL') {
      process.kill(-child.process.pid!, 'SIGKILL');
      await child.exited;
      kills++;
    } else {
      await child.stop();
    }
    await sleep(500 + Math.random() * 1_500);
    processes[name] = spawn(name, name === 'worker' ? 'workers/main.ts' : 'src/server.ts');
    await processes[name].ready(120_000);
    restarts[name]!++;
  };
  const faults: ChaosTopology['faults'] = [];
  for (let k = 0; k < opts.workerKills; k++)
    faults.push({ name: 'worker killed and restarted', run: () => restart('worker', 'SIGKILL') });
  faults.splice(1, 0, {
    name: 'Temporal dev server restarted on its database file',
    run: async () => {
      await temporal.stop();
      await sleep(1_000);
      temporal = await startTemporal();
      restarts.temporal!++;
    },
  });
  faults.splice(3, 0, {
    name: 'Postgres restarted',
    run: async () => {
      await postgres.child.stop();
      await sleep(2_000);
      postgres = await startPostgres();
      restarts.postgres!++;
    },
  });
  faults.splice(4, 0, { name: 'api restarted', run: () => restart('api', 'SIGTERM') });

  const api = `http://127.0.0.1:${apiPort}`;
  const check = await runChaosOn(
    { apiUrls: [api], streamApiUrl: api, db, bank, env, dir, faults },
    { ...opts, deadline, log },
  );
  for (const name of ['api', 'worker', 'bank'] as const) await processes[name].stop();
  await db.destroy();
  await temporal.stop();
  await postgres.child.stop();
  if (check.problems.length === 0) fs.rmSync(dir, { recursive: true, force: true });
  return { bench: 'chaos', ...check, kills, restarts, seconds: Math.round((Date.now() - started) / 1000) };
}

/** Where a chaos run drives its orders: the API replicas, the databases and the faults to inflict on the way. */
export interface ChaosTopology {
  /** Requests go round robin over these, so a retry after a failure reaches the next replica. */
  apiUrls: string[];
  /** The replica the customers' event streams are followed on. */
  streamApiUrl: string;
  db: Knex;
  bank: BankClient;
  /** The environment the webhook receiver starts with. */
  env: NodeJS.ProcessEnv;
  /** For the receiver's log. */
  dir: string;
  /** Done one after another, a few seconds apart, while orders are in flight. */
  faults: { name: string; run: () => Promise<void> }[];
}

/** The application settings a chaos run needs from every API, worker and bank process. */
export const CHAOS_APP_ENV = {
  // Long enough that a bank's answer delayed by the restarts (of Postgres, Temporal and the API, one after another)
  // still arrives before it on a slow machine; a silent bank's orders wait it out.
  PAYMENT_TIMEOUT_MS: '45000',
  LOG_LEVEL: 'warn',
  // Chaos places many orders from one machine: rate limits are not what is under test.
  RATE_LIMIT_ORDERS_PER_MINUTE: '100000',
  // The webhook receiver is on loopback; its retries come within seconds, so it catches up before the deadline.
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_MS: '1000,2000,4000,8000',
};

export interface ChaosCheck {
  orders: number;
  lost: number;
  inconsistent: number;
  problems: string[];
  byScenario: Record<string, { orders: number; ok: number }>;
  streams: ChaosResult['streams'];
  webhooks: ChaosResult['webhooks'];
  faults: string[];
}

/** Drives the orders on `topology` while its faults happen, then checks every order, stream and webhook delivery. */
export async function runChaosOn(
  topology: ChaosTopology,
  opts: Omit<ChaosOptions, 'workerKills'> & { deadline: number },
): Promise<ChaosCheck> {
  const log = opts.log ?? ((m: string) => console.error(`[chaos] ${m}`));
  const { db, bank } = topology;
  const deadline = opts.deadline;
  const faultsDone: string[] = [];
  // The shop: one location with plenty of stock and slots, an owner, a driver.
  const token = (role: Role, locationId?: string) =>
    provisionUser(createRepositories(db), {
      name: `Chaos ${role}`,
      role,
      token: newToken(`chaos_${role}`),
      locationIds: locationId ? [locationId] : [],
    });
  const [location] = await db('locations')
    .insert({ name: 'Chaos bakery', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 8000 })
    .returning<{ id: string }[]>('id');
  const locationId = location!.id;
  const [product] = await db('products')
    .insert({ name: 'Chaos bun', price_cents: 400, shelf_life_minutes: 1440 })
    .returning<{ id: string }[]>('id');
  const owner = await token('owner', locationId);
  const driver = await token('driver', locationId);
  const stock = await fetch(`${topology.apiUrls[0]}/v1/locations/${locationId}/stock`, {
    method: 'POST',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ productId: product!.id, quantity: opts.orders * 2 }),
  });
  if (stock.status !== 201) throw new Error(`could not receive stock: ${stock.status} ${await stock.text()}`);
  const hooks = await startChaosWebhooks({
    api: topology.apiUrls[0]!,
    ownerToken: owner.token,
    locationId,
    dir: topology.dir,
    env: topology.env,
  });
  const slotStart = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
  const [slot] = await db('slots')
    .insert({
      location_id: locationId,
      starts_at: slotStart,
      ends_at: new Date(slotStart.getTime() + 3_600_000),
      capacity: opts.orders,
      cutoff_at: new Date(slotStart.getTime() - 5 * 60_000),
    })
    .returning<{ id: string }[]>('id');

  let nextApi = 0;
  const request = async (
    method: string,
    url: string,
    auth: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    // Round robin over the replicas, as a load balancer would: a retry after a failure goes to the next one.
    const api = topology.apiUrls[nextApi++ % topology.apiUrls.length];
    const res = await fetch(`${api}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${auth}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status >= 500) throw new Retryable(`${method} ${url} answered ${res.status}: ${text.slice(0, 200)}`);
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  };
  const statusOf = (orderId: string) =>
    persist(
      'read order',
      deadline,
      async () => (await db('orders').where({ id: orderId }).first<{ status: string }>('status'))?.status,
    );
  const waitFor = async (orderId: string, wanted: string[]) => {
    for (;;) {
      const status = await statusOf(orderId);
      if (status && wanted.includes(status)) return status;
      if (Date.now() > deadline)
        throw new Error(`order ${orderId} stuck at ${status}, waiting for ${wanted.join('/')}`);
      await sleep(200);
    }
  };
  /** An action that may already have happened before a restart: a 409 is fine once the order has moved past it. */
  const act = async (
    what: string,
    orderId: string,
    send: () => Promise<{ status: number; body: Record<string, any> }>,
    done: () => Promise<boolean>,
  ) => {
    await persist(what, deadline, async () => {
      const res = await send();
      // A retry after a lost answer may find the action done: the workflow then refuses it, or has finished.
      if (res.status === 200 || ((res.status === 409 || res.status === 404) && (await done()))) return;
      if (res.status === 404 || res.status === 409)
        throw new Retryable(`${what} for ${orderId}: ${res.status} ${JSON.stringify(res.body)}`);
      throw new Error(`${what} for ${orderId}: ${res.status} ${JSON.stringify(res.body)}`);
    });
  };
  const deliveryIs = async (orderId: string, statuses: string[]) =>
    statuses.includes(
      (await db('deliveries').where({ order_id: orderId }).first<{ status: string }>('status'))?.status ?? '',
    );

  const placed: { orderId: string; scenario: Scenario; customerToken: string }[] = [];
  const failures: string[] = [];
  const streams: {
    client: SseClient | undefined;
    orderId: string;
    token: string;
    ids: number[];
    reconnects: number;
  }[] = [];

  async function driveOrder(i: number): Promise<void> {
    const scenario = SCENARIOS[i % SCENARIOS.length]!;
    // The harness's own writes meet the Postgres restart too: retried like every other step.
    const customer = await persist('create customer', deadline, () => token('customer'));
    const balance = scenario === 'insufficient_funds' ? 100 : 1_000_000;
    const behavior =
      scenario === 'declined'
        ? 'decline'
        : scenario === 'bank_silent' || scenario === 'cancel_before_payment'
          ? 'silent'
          : 'normal';
    const account = await persist('open account', deadline, () =>
      bank.createAccount({ holderName: `Chaos ${i}`, balanceCents: balance, behavior, decisionDelayMs: 200 }),
    );
    await persist('link account', deadline, () =>
      db('users').where({ id: customer.id }).update({ bank_account_id: account.id }),
    );
    const idempotencyKey = randomUUID();
    const res = await persist('place order', deadline, () =>
      request(
        'POST',
        '/v1/orders',
        customer.token,
        {
          locationId,
          slotId: slot!.id,
          items: [{ productId: product!.id, quantity: 1 }],
          address: { lat: 51.5, lng: -0.1, line1: `${i} Chaos Lane` },
        },
        { 'idempotency-key': idempotencyKey },
      ),
    );
    if (res.status !== 201) throw new Error(`order ${i} refused: ${res.status} ${JSON.stringify(res.body)}`);
    const orderId = res.body.id as string;
    placed.push({ orderId, scenario, customerToken: customer.token });
    if (i % 10 === 0) streams.push({ client: undefined, orderId, token: customer.token, ids: [], reconnects: 0 });

    const cancel = () =>
      act(
        'cancel',
        orderId,
        () => request('POST', `/v1/orders/${orderId}/cancel`, customer.token),
        async () => (await statusOf(orderId)) === 'cancelled',
      );
    if (scenario === 'cancel_before_payment') return cancel();
    if (scenario !== 'delivered' && scenario !== 'cancel_after_payment') return;
    await waitFor(orderId, ['confirmed']);
    if (scenario === 'cancel_after_payment') return cancel();
    const past = (statuses: string[]) => async () => statuses.includes((await statusOf(orderId)) ?? '');
    await act(
      'prepping',
      orderId,
      () => request('POST', `/v1/orders/${orderId}/prep`, owner.token, { status: 'prepping' }),
      past(['prepping', 'prepped', 'out_for_delivery', 'completed']),
    );
    await act(
      'prepped',
      orderId,
      () => request('POST', `/v1/orders/${orderId}/prep`, owner.token, { status: 'prepped' }),
      past(['prepped', 'out_for_delivery', 'completed']),
    );
    await act(
      'assign',
      orderId,
      () => request('POST', `/v1/deliveries/${orderId}/assign`, owner.token, { driverId: driver.id }),
      () => deliveryIs(orderId, ['assigned', 'picked_up', 'delivered']),
    );
    await act(
      'pickup',
      orderId,
      () => request('POST', `/v1/deliveries/${orderId}/pickup`, driver.token),
      () => deliveryIs(orderId, ['picked_up', 'delivered']),
    );
    await act(
      'complete',
      orderId,
      () => request('POST', `/v1/deliveries/${orderId}/complete`, driver.token),
      () => deliveryIs(orderId, ['delivered']),
    );
  }

  /** Keeps a customer's order stream open across API restarts, resuming from the last id it saw. */
  async function follow(stream: (typeof streams)[number]): Promise<void> {
    while (Date.now() < deadline && !allDone) {
      try {
        const last = stream.ids.at(-1);
        stream.client = await openSse(`${topology.streamApiUrl}/v1/orders/${stream.orderId}/events`, {
          headers: {
            authorization: `Bearer ${stream.token}`,
            ...(last === undefined ? {} : { 'last-event-id': String(last) }),
          },
          onEvent: (e) => {
            if (e.id !== undefined && /^\d+$/.test(e.id)) stream.ids.push(Number(e.id));
          },
        });
        await stream.client.ended;
        // An order's stream ends with the order; after that there is nothing more to follow.
        const status = await db('orders').where({ id: stream.orderId }).first<{ status: string }>('status');
        if (status && ['completed', 'payment_failed', 'cancelled', 'rejected'].includes(status.status)) return;
      } catch {
        // The API or the database is down: try again shortly.
      }
      if (allDone) return;
      stream.reconnects++;
      await sleep(300);
    }
  }

  let allDone = false;
  let next = 0;
  const drivers = Array.from({ length: opts.concurrency }, async () => {
    while (next < opts.orders) {
      const i = next++;
      try {
        await driveOrder(i);
      } catch (err) {
        failures.push(`order ${i}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  });
  const faulting = (async () => {
    // The webhook receiver dies beside the other faults, not between them, so their timing stays as it was.
    const receiverKill = (async () => {
      await sleep(4_000 + Math.random() * 4_000);
      await hooks.killAndRestart(2_000 + Math.random() * 3_000);
      log('webhook receiver killed and restarted');
    })();
    for (const fault of topology.faults) {
      if (allDone) break;
      await sleep(2_000 + Math.random() * 3_000);
      await fault.run();
      faultsDone.push(fault.name);
      log(fault.name);
    }
    await receiverKill;
  })();
  const following = (async () => {
    // Streams are opened as orders appear; each is followed until the end.
    const started: Promise<void>[] = [];
    while (!allDone) {
      for (const s of streams.slice(started.length)) started.push(follow(s));
      await sleep(200);
    }
    await Promise.all(started);
  })();
  await Promise.all(drivers);
  await faulting;
  log(`all ${placed.length} orders placed and driven; waiting for terminal states`);

  // Every order must reach the end its scenario leads to.
  const problems = [...failures];
  const byScenario: ChaosResult['byScenario'] = {};
  let lost = 0;
  let inconsistent = 0;
  const terminal = ['completed', 'payment_failed', 'cancelled', 'rejected'];
  for (const order of placed) {
    const entry = (byScenario[order.scenario] ??= { orders: 0, ok: 0 });
    entry.orders++;
    try {
      await waitFor(order.orderId, terminal);
    } catch {
      // reported below as lost
    }
    const row: { status: string; reason: string | null; charge_id: string | null } | undefined = await persist(
      'read order',
      deadline + 60_000,
      () => db('orders').where({ id: order.orderId }).first('status', 'reason', 'charge_id'),
    );
    if (!row || !terminal.includes(row.status)) {
      lost++;
      problems.push(`${order.orderId} (${order.scenario}) did not finish: ${row?.status}`);
      continue;
    }
    const expected = EXPECTED[order.scenario];
    const charge = row.charge_id
      ? await persist('read charge', deadline + 60_000, () => bank.getCharge(row!.charge_id!))
      : undefined;
    const captured = charge?.status === 'approved';
    const events = await db('events')
      .where({ stream: `order:${order.orderId}`, type: 'order.status' })
      .orderBy('id')
      .select<{ payload: { status: string } }[]>('payload');
    const statuses = ['placed', ...events.map((e) => e.payload.status)];
    const wrong: string[] = [];
    if (row.status !== expected.status || row.reason !== expected.reason)
      wrong.push(`ended ${row.status}/${row.reason}, expected ${expected.status}/${expected.reason}`);
    if ((expected.money === 'captured') !== captured)
      wrong.push(`charge ${charge?.status ?? 'missing'} does not agree with ${row.status}`);
    if (JSON.stringify(statuses) !== JSON.stringify(PATH[order.scenario]))
      wrong.push(`stream shows ${statuses.join('→')}`);
    if (wrong.length > 0) {
      inconsistent++;
      problems.push(`${order.orderId} (${order.scenario}): ${wrong.join('; ')}`);
    } else {
      entry.ok++;
    }
  }
  // Each followed stream gets a moment to catch up with its order's last event (committed just before the order was
  // read as finished) before it is closed.
  const catchUpBy = Date.now() + 15_000;
  for (const s of streams) {
    const last = await db('events')
      .where({ stream: `order:${s.orderId}` })
      .max<{ max: number | null }>('id as max')
      .first();
    while (last?.max != null && !s.ids.includes(Number(last.max)) && Date.now() < catchUpBy)
      await new Promise((r) => setTimeout(r, 100));
  }
  allDone = true;
  for (const s of streams) s.client?.close();
  await following;

  // A followed stream must have seen every event of its order exactly once, in order, across reconnects.
  let missing = 0;
  for (const s of streams) {
    const expected = (
      await db('events')
        .where({ stream: `order:${s.orderId}` })
        .orderBy('id')
        .select<{ id: number }[]>('id')
    ).map((e) => e.id);
    const seen = s.ids.filter((id) => expected.includes(id));
    if (JSON.stringify(seen) !== JSON.stringify(expected)) {
      missing++;
      problems.push(`stream of ${s.orderId} saw ${s.ids.join(',')} but the log has ${expected.join(',')}`);
    }
  }
  const invariants = await checkInventoryInvariants(db);
  const slotRow = await db('slots').where({ id: slot!.id }).first<{ reserved: number }>('reserved');
  const holds = Number(
    (await db('slot_holds').where({ slot_id: slot!.id }).count<{ count: number }[]>('* as count'))[0]!.count,
  );
  if (slotRow.reserved !== holds) invariants.push(`slot reserved ${slotRow.reserved} but ${holds} holds`);
  if (holds !== 0) invariants.push(`${holds} slot holds remain after every order ended`);
  if (invariants.length > 0) {
    inconsistent += invariants.length;
    problems.push(...invariants.map((v) => `invariant: ${v}`));
  }

  const { problems: webhookProblems, ...webhooks } = await hooks.check(
    db,
    placed.map((o) => o.orderId),
    deadline + 60_000,
  );
  problems.push(...webhookProblems);

  await hooks.stop();
  return {
    orders: placed.length,
    lost: lost + (opts.orders - placed.length),
    inconsistent,
    problems,
    byScenario,
    streams: { opened: streams.length, reconnects: streams.reduce((n, s) => n + s.reconnects, 0), missing },
    webhooks,
    faults: faultsDone,
  };
}

/**
 * The chaos run on the production topology (`npm run cluster`): a history process, a worker replica, an API replica
 * and the Postgres replica are killed and the Temporal frontend restarted while orders are in flight through both API
 * replicas; the customers' streams are followed on the replica that survives. The killed history, worker and API
 * processes stay down: the survivors carry on alone.
 */
export async function runClusterChaos(
  opts: Omit<ChaosOptions, 'workerKills'> & { cluster: Cluster },
): Promise<ChaosResult> {
  const { cluster } = opts;
  const log = opts.log ?? ((m: string) => console.error(`[chaos] ${m}`));
  const started = Date.now();
  const deadline = started + opts.deadlineMs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-cluster-chaos-'));
  const db = createDb(cluster.databaseUrl, { max: 5 });
  const replica = createDb(cluster.readDatabaseUrl, { max: 1 });
  const bank = createBankClient(cluster.bankUrl, { apiKey: DEV_BANK_API_KEY });
  let kills = 0;
  const restarts: Record<string, number> = {};
  const kill = async (name: ClusterProcessName) => {
    await cluster.kill(name);
    kills++;
  };
  const startAgain = async (name: ClusterProcessName, afterMs: number) => {
    await sleep(afterMs);
    await cluster.start(name);
    restarts[name] = (restarts[name] ?? 0) + 1;
  };
  const faults: ChaosTopology['faults'] = [
    { name: 'history-1 SIGKILLed: its shards move to history-2', run: () => kill('history-1') },
    { name: 'worker-1 SIGKILLed: worker-2 carries on alone', run: () => kill('worker-1') },
    // api-2, not api-1: the bank sends its webhooks to api-1 alone, there being no load balancer on this machine.
    { name: 'api-2 SIGKILLed: api-1 takes every request and stream', run: () => kill('api-2') },
    {
      name: 'Temporal frontend restarted',
      run: async () => {
        await cluster.restart('frontend');
        restarts.frontend = (restarts.frontend ?? 0) + 1;
      },
    },
    {
      name: 'Postgres replica SIGKILLed, started again 5 s later',
      run: async () => {
        await kill('postgres-replica');
        await startAgain('postgres-replica', 5_000);
      },
    },
  ];
  try {
    const check = await runChaosOn(
      {
        apiUrls: cluster.apiUrls,
        streamApiUrl: cluster.apiUrls[0],
        db,
        bank,
        env: { ...process.env, ...CHAOS_APP_ENV },
        dir,
        faults,
      },
      { ...opts, deadline, log },
    );
    // The replica that came back streams again and catches up with everything the primary wrote meanwhile.
    const lastEvent = async (k: Knex) =>
      Number((await k('events').max<{ max: number | null }>('id as max').first())?.max ?? 0);
    const primaryLast = await lastEvent(db);
    let replicaLast = -1;
    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(250)) {
      replicaLast = await lastEvent(replica).catch(() => -1);
      if (replicaLast >= primaryLast) break;
    }
    if (replicaLast < primaryLast)
      check.problems.push(`the Postgres replica is at event ${replicaLast}, the primary at ${primaryLast}`);
    if (!(await isStreaming(cluster.readDatabaseUrl.replace(/\/app$/, '')).catch(() => false)))
      check.problems.push('the Postgres replica is not streaming from the primary');
    if (check.problems.length === 0) fs.rmSync(dir, { recursive: true, force: true });
    return { bench: 'chaos', ...check, kills, restarts, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    await replica.destroy();
    await db.destroy();
  }
}

/** Free ports for every public part of a cluster. */
export async function clusterPorts() {
  return {
    api: [await freePort(), await freePort()] as [number, number],
    bank: await freePort(),
    // Temporal keeps its ports in a smallint column.
    temporal: await freeLowPort(),
    pgPrimary: await freePort(),
    pgReplica: await freePort(),
  };
}

function printSummary(result: ChaosResult): void {
  console.log('\nscenario                 orders   ok');
  for (const [name, { orders, ok }] of Object.entries(result.byScenario))
    console.log(`${name.padEnd(24)} ${String(orders).padStart(6)} ${String(ok).padStart(4)}`);
  const restarts = Object.entries(result.restarts).map(([name, n]) => `${name} ${n}`);
  console.log(`\nkills ${result.kills}; restarts: ${restarts.join(', ') || 'none'}`);
  for (const fault of result.faults) console.log(`fault: ${fault}`);
  console.log(
    `streams followed ${result.streams.opened}, reconnects ${result.streams.reconnects}, with gaps ${result.streams.missing}`,
  );
  const w = result.webhooks;
  console.log(
    `webhook events expected ${w.expected}, delivered ${w.delivered}, lost ${w.lost}, out of order ${w.out_of_order} (duplicates ${w.duplicates}, receiver kills ${w.receiver_kills})`,
  );
  for (const problem of result.problems.slice(0, 20)) console.log(`problem: ${problem}`);
  const { problems, byScenario, streams, webhooks, faults, ...line } = result;
  void byScenario;
  void faults;
  console.log(
    JSON.stringify({
      ...line,
      problems: problems.length,
      stream_gaps: streams.missing,
      webhooks_expected: webhooks.expected,
      webhooks_delivered: webhooks.delivered,
      webhooks_lost: webhooks.lost,
      webhooks_out_of_order: webhooks.out_of_order,
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const value = (name: string, fallback: number) => numberFlag(args, name, fallback);
  const common = {
    orders: value('orders', 300),
    concurrency: value('concurrency', 24),
    deadlineMs: value('deadline-s', 600) * 1000,
  };
  let result: ChaosResult;
  if (args.includes('--cluster')) {
    // The production topology in a folder of its own, on free ports.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-cluster-'));
    const cluster = await startCluster({
      config: loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' }),
      dir,
      ports: await clusterPorts(),
      historyShards: value('shards', 8),
      env: CHAOS_APP_ENV,
      log: (m) => console.error(`[cluster] ${m}`),
    });
    try {
      result = await runClusterChaos({ ...common, cluster });
    } finally {
      await cluster.stop();
    }
    if (result.problems.length === 0) fs.rmSync(dir, { recursive: true, force: true });
  } else {
    result = await runChaos({ ...common, workerKills: value('kills', 4) });
  }
  printSummary(result);
  const webhooksOk = result.webhooks.lost === 0 && result.webhooks.out_of_order === 0;
  process.exit(result.lost === 0 && result.inconsistent === 0 && webhooksOk ? 0 : 1);
}
