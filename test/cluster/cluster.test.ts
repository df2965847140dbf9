// The production topology of `npm run cluster` under test: the order saga end to end through both API replicas, then
// the chaos run with a history process, a worker replica, an API replica and the Postgres replica killed and the
// Temporal frontend restarted. Skipped, with the reason, where the Temporal server or Debian's Postgres cannot be had.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAOS_APP_ENV, clusterPorts, runClusterChaos } from '../../bench/chaos.js';
import { createBankClient, type BankClient } from '../../src/bank/client.js';
import { DEV_BANK_API_KEY, loadConfig } from '../../src/config.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createDb } from '../../src/db/knex.js';
import { isStreaming } from '../../src/dev/cluster-postgres.js';
import { startCluster, type Cluster } from '../../src/dev/cluster-stack.js';
import { clusterUnavailable } from '../support/cluster.js';
import { openSse } from '../support/sse.js';
import { createLocation, createProduct, createSlot, createUser, eventually } from '../support/stack.js';

const unavailable = await clusterUnavailable();
if (unavailable) {
  console.warn(`[cluster tier] skipped: ${unavailable}`);
  it.skip(`cluster tier skipped: ${unavailable}`, () => undefined);
}

describe.skipIf(unavailable !== undefined)('the cluster', () => {
  let dir: string;
  let cluster: Cluster;
  let db: Knex;
  let bank: BankClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-cluster-test-'));
    cluster = await startCluster({
      config: loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' }),
      dir,
      ports: await clusterPorts(),
      historyShards: 8,
      env: CHAOS_APP_ENV,
      log: (message) => console.error(`[cluster] ${message}`),
    });
    db = createDb(cluster.databaseUrl, { max: 4 });
    bank = createBankClient(cluster.bankUrl, { apiKey: DEV_BANK_API_KEY });
  }, 1_500_000);

  afterAll(async () => {
    await db?.destroy();
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const api = async (replica: 0 | 1, method: string, url: string, token: string, body?: unknown) => {
    const res = await fetch(`${cluster.apiUrls[replica]}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  const customer = async (balanceCents: number) => {
    const user = await createUser(db, 'customer');
    const account = await bank.createAccount({ holderName: 'Cluster', balanceCents, decisionDelayMs: 0 });
    await db('users').where({ id: user.id }).update({ bank_account_id: account.id });
    return user;
  };
  const statusOf = (replica: 0 | 1, id: string, token: string, wanted: string) =>
    eventually(
      () => api(replica, 'GET', `/v1/orders/${id}`, token),
      (r) => r.body.status === wanted,
      60_000,
    );

  it('runs the order saga end to end across both API replicas, the streaming replica and SQL visibility', async () => {
    expect(await isStreaming(cluster.readDatabaseUrl.replace(/\/app$/, ''))).toBe(true);
    const locationId = await createLocation(db);
    const productId = await createProduct(db, { name: 'Cluster bun', price_cents: 250 });
    const owner = await createUser(db, 'owner', { locationIds: [locationId] });
    const driver = await createUser(db, 'driver', { locationIds: [locationId] });
    const stocked = await api(0, 'POST', `/v1/locations/${locationId}/stock`, owner.token, { productId, quantity: 20 });
    expect(stocked.status).toBe(201);
    const slotId = await createSlot(db, locationId);
    const place = (replica: 0 | 1, token: string, quantity: number) =>
      api(replica, 'POST', '/v1/orders', token, {
        locationId,
        slotId,
        items: [{ productId, quantity }],
        address: { lat: 51.5, lng: -0.1, line1: '3 Cluster Road' },
      });

    // Delivered: placed on replica 1, followed and driven on replica 2.
    const alice = await customer(100_000);
    const placed = await place(0, alice.token, 2);
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const orderId = placed.body.id as string;
    const stream = await openSse(`${cluster.apiUrls[1]}/v1/orders/${orderId}/events`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    await statusOf(1, orderId, alice.token, 'confirmed');
    expect((await api(1, 'POST', `/v1/orders/${orderId}/prep`, owner.token, { status: 'prepping' })).status).toBe(200);
    expect((await api(0, 'POST', `/v1/orders/${orderId}/prep`, owner.token, { status: 'prepped' })).status).toBe(200);
    // The delivery starts once the order is prepped.
    const assign = await eventually(
      () => api(1, 'POST', `/v1/deliveries/${orderId}/assign`, owner.token, { driverId: driver.id }),
      (r) => r.status !== 404,
    );
    expect(assign.status).toBe(200);
    expect((await api(0, 'POST', `/v1/deliveries/${orderId}/pickup`, driver.token)).status).toBe(200);
    expect((await api(1, 'POST', `/v1/deliveries/${orderId}/complete`, driver.token)).status).toBe(200);
    const done = await statusOf(0, orderId, alice.token, 'completed');
    expect(done.body.totalCents).toBe(500);
    const statuses = (
      await stream
        .waitFor((e) => e.event === 'order.status' && e.data.status === 'completed', 1, 30_000)
        .then(() => stream.events)
    )
      .filter((e) => e.event === 'order.status')
      .map((e) => e.data.status);
    stream.close();
    expect(statuses).toEqual(['awaiting_payment', 'confirmed', 'prepping', 'prepped', 'out_for_delivery', 'completed']);

    // Refused by the bank: the saga gives back the stock and the slot.
    const bob = await customer(100);
    const refused = await place(1, bob.token, 1);
    expect(refused.status).toBe(201);
    const failed = await statusOf(0, refused.body.id, bob.token, 'payment_failed');
    expect(failed.body.reason).toBe('insufficient_funds');

    // Cancelled by the customer after paying: refunded.
    const carol = await customer(100_000);
    const cancelled = await place(0, carol.token, 1);
    await statusOf(1, cancelled.body.id, carol.token, 'confirmed');
    expect((await api(1, 'POST', `/v1/orders/${cancelled.body.id}/cancel`, carol.token)).status).toBe(200);
    await statusOf(0, cancelled.body.id, carol.token, 'cancelled');

    // With one API replica down, the bank's webhooks reach the other: an order placed there is paid all the same.
    await cluster.kill('api-1');
    try {
      const dave = await customer(100_000);
      const paidOnOne = await place(1, dave.token, 1);
      expect(paidOnOne.status).toBe(201);
      await statusOf(1, paidOnOne.body.id, dave.token, 'confirmed');
    } finally {
      await cluster.start('api-1');
    }

    expect(await checkInventoryInvariants(db)).toEqual([]);
    // The streaming replica has the finished order too.
    const replica = createDb(cluster.readDatabaseUrl, { max: 1 });
    try {
      await eventually(
        () => replica('orders').where({ id: orderId }).first<{ status: string }>('status'),
        (row) => row?.status === 'completed',
      );
    } finally {
      await replica.destroy();
    }
    // SQL visibility answers a query on our search attributes.
    const connection = await Connection.connect({ address: cluster.temporalAddress });
    try {
      const client = new Client({ connection });
      const found = await eventually(
        async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({
            query: `OrderStatus = 'completed' AND LocationId = '${locationId}'`,
          }))
            ids.push(wf.workflowId);
          return ids;
        },
        (ids) => ids.length === 1,
        30_000,
      );
      expect(found).toEqual([`order-${orderId}`]);
    } finally {
      await connection.close();
    }
  }, 300_000);

  it('loses no order and leaves none inconsistent through kills of history, worker, API and replica processes', async () => {
    const result = await runClusterChaos({
      orders: 28,
      concurrency: 7,
      deadlineMs: 360_000,
      cluster,
      log: (message) => console.error(`[chaos] ${message}`),
    });
    console.error(`[chaos] cluster summary ${JSON.stringify({ ...result, problems: result.problems.length })}`);
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ orders: 28, lost: 0, inconsistent: 0 });
    expect(result.faults).toHaveLength(5);
    expect(result.kills).toBe(4);
    expect(result.restarts).toEqual({ frontend: 1, 'postgres-replica': 1 });
    expect(result.streams.opened).toBeGreaterThan(0);
    expect(result.streams.missing).toBe(0);
    expect(result.webhooks).toMatchObject({ lost: 0, out_of_order: 0, receiver_kills: 1 });
    expect(result.webhooks.delivered).toBe(result.webhooks.expected);
  }, 480_000);
});
