// The read pool on the real stack: with DATABASE_READ_URL on a second Postgres server (a database nothing feeds, so
// what it answers can only come from it), availability, locations and the catalogue are read there; a stale unit it
// still shows is refused at reservation, which reads the primary; a replica that lags or goes down sends reads back to
// the primary with no error, and they return when it is well; /metrics reports the lag.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { freePort } from '../../src/dev/ports.js';
import { startEmbeddedPostgres, type TsChild } from '../../src/dev/processes.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let dir: string;
let port: number;
let server: TsChild;
let replicaUrl: string;
let replica: Knex;
let stack: TestStack;

async function startReplicaServer(): Promise<void> {
  const started = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port,
    databases: ['app'],
    logFile: path.join(dir, 'postgres.log'),
  });
  server = started.child;
  replicaUrl = `${started.url}/app`;
}

/** One sample of a metric in the API's /metrics, NaN when absent. */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}
const onReplica = () =>
  eventually(
    () => metric('replica_reads_on_primary'),
    (v) => v === 0,
  );
const onPrimary = () =>
  eventually(
    () => metric('replica_reads_on_primary'),
    (v) => v === 1,
  );

/** Rows the primary has, as the replica would hold them had it replicated them. */
async function copyToReplica(table: string, where: Record<string, string>): Promise<void> {
  const rows = await stack.db(table).where(where);
  expect(rows.length).toBeGreaterThan(0);
  await replica(table).insert(rows);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-replica-'));
  // Postgres runs as its own unprivileged user when we are root, and must reach its data directory.
  fs.chmodSync(dir, 0o755);
  port = await freePort();
  await startReplicaServer();
  replica = createDb(replicaUrl, { max: 2 });
  await migrateLatest(replica);
  stack = await startTestStack({ DATABASE_READ_URL: replicaUrl, DATABASE_READ_MAX_LAG_MS: '5000' });
  await onReplica();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await replica?.destroy();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the read pool', () => {
  it('answers locations, availability and the catalogue from the replica', async () => {
    // Only the replica has this location and its stock.
    const location = await createLocation(replica, { name: 'Replica bakery', lat: 48.85, lng: 2.35 });
    const product = await createProduct(replica, { name: 'Replica loaf' });
    await replica('stock_lots').insert({
      // Far above the primary's ids, which other lots copied here keep.
      id: 900_000_001,
      location_id: location,
      product_id: product,
      produced_at: new Date(),
      expires_at: new Date(Date.now() + 3_600_000),
      quantity: 4,
      available: 4,
      free_units: '{[0,4)}',
    });

    const nearby = await stack.api('GET', '/v1/locations?lat=48.85&lng=2.35');
    expect(nearby.status).toBe(200);
    expect(nearby.body.items.map((l: { id: string }) => l.id)).toContain(location);
    const available = await stack.api('GET', '/v1/availability?lat=48.85&lng=2.35');
    expect(available.status).toBe(200);
    expect(available.body.items).toEqual([expect.objectContaining({ productId: product, available: 4 })]);
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(200);
    expect((await stack.api('GET', `/v1/products/${product}`)).body.name).toBe('Replica loaf');
    expect((await stack.api('GET', `/v1/locations/${location}/slots`)).status).toBe(200);
    // The primary has never heard of it: what decides reads there.
    expect(await stack.db('locations').where({ id: location }).first()).toBeUndefined();
    expect(await metric('replica_lag_seconds')).toBeLessThan(5);
  });

  it('refuses with out_of_stock an order for a unit the lagging replica still shows', async () => {
    const location = await createLocation(stack.db, { lat: 48.9, lng: 2.4 });
    const product = await createProduct(stack.db, { name: 'Last croissant' });
    const owner = await createUser(stack.db, 'owner', { locationIds: [location] });
    const stocked = await stack.api('POST', `/v1/locations/${location}/stock`, {
      token: owner.token,
      body: { productId: product, quantity: 1 },
    });
    expect(stocked.status).toBe(201);
    // The replica has the lot as it was before the last unit sold.
    await copyToReplica('locations', { id: location });
    await copyToReplica('products', { id: product });
    await copyToReplica('stock_lots', { location_id: location });

    const order = (customer: { token: string }, slotId: string) =>
      stack.api('POST', '/v1/orders', {
        token: customer.token,
        body: {
          locationId: location,
          slotId,
          items: [{ productId: product, quantity: 1 }],
          address: { lat: 48.9, lng: 2.4, line1: '1 Rue du Réplica' },
        },
      });
    const first = await order(await createCustomer(stack), await createSlot(stack.db, location));
    expect(first.status).toBe(201);

    const shown = await stack.api('GET', '/v1/availability?lat=48.9&lng=2.4');
    expect(shown.body.items).toEqual([expect.objectContaining({ productId: product, available: 1 })]);
    const second = await order(await createCustomer(stack), await createSlot(stack.db, location));
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('out_of_stock');
  });

  it('reads the primary while the replica lags past the bound, and the replica again once it catches up', async () => {
    const location = await createLocation(replica, { name: 'Only on the replica' });
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(200);

    // The primary's heartbeat as a replica a minute behind would hold it.
    await replica('replication_heartbeat').insert({ id: 1, beat_at: new Date(Date.now() - 60_000) });
    await onPrimary();
    expect(await metric('replica_lag_seconds')).toBeGreaterThanOrEqual(60);
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(404);

    await replica('replication_heartbeat').delete();
    await onReplica();
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(200);
  });

  it('answers every read from the primary, without an error, when the replica server is down, and goes back when it is up', async () => {
    const location = await createLocation(replica, { name: 'Back again' });
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(200);
    await replica.destroy();
    await server.stop();

    // Straight away, before a check has noticed: the reads that meet the dead replica are answered by the primary.
    const answers = await Promise.all(
      ['/v1/availability?lat=51.5&lng=-0.1', '/v1/locations?lat=51.5&lng=-0.1', '/v1/products', '/v1/categories'].map(
        async (url) => (await stack.api('GET', url)).status,
      ),
    );
    expect(answers).toEqual([200, 200, 200, 200]);
    await onPrimary();
    expect(await metric('replica_lag_seconds')).toBeNaN();
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(404);

    await startReplicaServer();
    replica = createDb(replicaUrl, { max: 2 });
    await onReplica();
    expect((await stack.api('GET', `/v1/locations/${location}`)).status).toBe(200);
  });
});
