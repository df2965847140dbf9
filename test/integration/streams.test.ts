// The live streams on the real stack: two API processes over one database, resume with Last-Event-ID, refusals, slow clients, shutdown and the session cookie.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createDb } from '../../src/db/knex.js';
import { appendEvent } from '../../src/db/repositories/events.js';
import { streams, type EventType } from '../../src/events/log.js';
import { openSse, openStalledSse, type SseEvent } from '../support/sse.js';
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

let stack: TestStack;
// A second API process: its own pool, its own LISTEN connection, small buffers so a stalled client is dropped quickly.
let appB: FastifyInstance;
let dbB: Knex;
let baseB: string;

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

beforeAll(async () => {
  stack = await startTestStack();
  dbB = createDb(stack.config.databaseUrl!);
  appB = await buildApp({
    config: stack.config,
    db: dbB,
    temporal: stack.client,
    logger: { level: 'error' },
    live: { maxBufferedBytes: 128 * 1024, heartbeatMs: 250 },
  });
  await appB.listen({ port: 0, host: '127.0.0.1' });
  baseB = `http://127.0.0.1:${(appB.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await appB?.close();
  await dbB?.destroy();
  await stack?.stop();
});

async function append(stream: string, type: string, payload: Record<string, unknown>): Promise<number> {
  return stack.db.transaction((trx) => appendEvent(trx, stream, type as EventType, payload));
}

/** An order row with its customer, written directly: these tests are about the streams, not the saga. */
async function orderFixture(status = 'confirmed') {
  const locationId = await createLocation(stack.db);
  const customer = await createUser(stack.db, 'customer');
  const orderId = randomUUID();
  await stack.db('orders').insert({
    id: orderId,
    customer_id: customer.id,
    location_id: locationId,
    status,
    total_cents: 500,
    address: { lat: 51.5, lng: -0.1, line1: '9 Secret Street' },
  });
  return { locationId, customer, orderId };
}

const ids = (events: SseEvent[]) => events.map((e) => Number(e.id));

describe('live streams across two API processes', () => {
  it('shows an order placed through one process live on the other: slots, dashboard, order and board', async () => {
    const locationId = await createLocation(stack.db);
    const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
    const productId = await createProduct(stack.db);
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: owner.token,
          body: { productId, quantity: 20 },
        })
      ).status,
    ).toBe(201);
    const slotId = await createSlot(stack.db, locationId, { capacity: 5 });

    const slots = await openSse(`${baseB}/v1/locations/${locationId}/slots/events`);
    const dashboard = await openSse(`${baseB}/v1/dashboard/events`, { headers: auth(owner.token) });
    const board = await openSse(`${baseB}/v1/board/${locationId}/events`);
    const [slotSnapshot] = await slots.waitFor((e) => e.event === 'snapshot');
    expect(slotSnapshot!.data.slots.find((s: { id: string }) => s.id === slotId)).toMatchObject({
      remaining: 5,
      status: 'open',
    });
    await dashboard.waitFor((e) => e.event === 'snapshot');
    await board.waitFor((e) => e.event === 'snapshot');

    const customer = await createCustomer(stack);
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId,
        slotId,
        items: [{ productId, quantity: 2 }],
        address: { lat: 51.5, lng: -0.1, line1: '1 Live Lane' },
      },
    });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id as string;

    await slots.waitFor((e) => e.event === 'slot' && e.data.slotId === slotId && e.data.remaining === 4);
    await dashboard.waitFor(
      (e) => e.event === 'order.status' && e.data.orderId === orderId && e.data.status === 'confirmed',
    );

    const order = await openSse(`${baseB}/v1/orders/${orderId}/events`, { headers: auth(customer.token) });
    await order.waitFor((e) => e.event === 'order.status' && e.data.status === 'confirmed');
    expect(
      (await stack.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status: 'prepping' } }))
        .status,
    ).toBe(200);
    expect(
      (await stack.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status: 'prepped' } }))
        .status,
    ).toBe(200);
    const [prepped] = await order.waitFor((e) => e.event === 'order.status' && e.data.status === 'prepped');
    expect(prepped!.data).toMatchObject({
      orderId,
      status: 'prepped',
      number: orderId.replace(/-/g, '').slice(0, 4).toUpperCase(),
    });
    // Everything the order stream sent came in id order, without repeats.
    expect(ids(order.events)).toEqual([...new Set(ids(order.events))].sort((a, b) => a - b));

    // A delivery order in prep, then waiting for its driver, is preparing as the board tells it.
    const preparing = await board.waitFor((e) => e.event === 'board', 2);
    const number = orderId.replace(/-/g, '').slice(0, 4).toUpperCase();
    expect(preparing.map((e) => e.data)).toEqual([
      { number, state: 'preparing' },
      { number, state: 'preparing' },
    ]);
    for (const client of [slots, dashboard, order, board]) client.close();
  });

  it('resumes with Last-Event-ID on the other process: exactly the missed events, in order, then live ones', async () => {
    const { customer, orderId, locationId } = await orderFixture();
    const stream = streams.order(orderId);
    const seen = [
      await append(stream, 'order.status', { orderId, status: 'awaiting_payment' }),
      await append(stream, 'order.status', { orderId, status: 'confirmed' }),
    ];

    const first = await openSse(`${stack.baseUrl}/v1/orders/${orderId}/events`, { headers: auth(customer.token) });
    await first.waitFor(() => true, 2);
    expect(ids(first.events)).toEqual(seen);
    first.close();

    // Missed while disconnected, interleaved with events of streams this client must not see.
    const missed = [await append(stream, 'order.status', { orderId, status: 'prepping' })];
    await append(streams.location(locationId), 'order.status', { orderId, status: 'prepping' });
    await append(streams.order(randomUUID()), 'order.status', { status: 'confirmed' });
    missed.push(await append(stream, 'order.status', { orderId, status: 'prepped' }));
    missed.push(await append(stream, 'delivery.status', { orderId, deliveryStatus: 'pending', driverId: null }));

    const resumed = await openSse(`${baseB}/v1/orders/${orderId}/events`, {
      headers: { ...auth(customer.token), 'last-event-id': String(seen[1]) },
    });
    await resumed.waitFor(() => true, 3);
    expect(ids(resumed.events)).toEqual(missed);
    expect(resumed.events.map((e) => e.data.status ?? e.data.deliveryStatus)).toEqual([
      'prepping',
      'prepped',
      'pending',
    ]);

    const live = await append(stream, 'delivery.status', { orderId, deliveryStatus: 'assigned', driverId: null });
    await resumed.waitFor((e) => Number(e.id) === live);
    expect(ids(resumed.events)).toEqual([...missed, live]);
    resumed.close();
  });

  it('resumes a snapshot stream from the snapshot id with only the events its audience sees', async () => {
    const locationId = await createLocation(stack.db);
    const slotId = await createSlot(stack.db, locationId, { capacity: 3 });
    const first = await openSse(`${stack.baseUrl}/v1/locations/${locationId}/slots/events`);
    const [snapshot] = await first.waitFor((e) => e.event === 'snapshot');
    first.close();

    const location = streams.location(locationId);
    const missed = [
      await append(location, 'slot.capacity', { slotId, capacity: 3, reserved: 1, remaining: 2, status: 'open' }),
    ];
    await append(location, 'order.status', { orderId: randomUUID(), status: 'confirmed', totalCents: 100 });
    missed.push(
      await append(location, 'slot.capacity', {
        slotId,
        capacity: 3,
        reserved: 1,
        remaining: 2,
        status: 'closed',
        internalNote: 'never public',
      }),
    );

    const resumed = await openSse(`${baseB}/v1/locations/${locationId}/slots/events`, {
      headers: { 'last-event-id': snapshot!.id! },
    });
    await resumed.waitFor(() => true, 2);
    expect(ids(resumed.events)).toEqual(missed);
    expect(resumed.events.map((e) => e.event)).toEqual(['slot', 'slot']);
    expect(resumed.events[1]!.data).toEqual({ slotId, capacity: 3, reserved: 1, remaining: 2, status: 'closed' });
    resumed.close();
  });

  it('keeps personal data off the public board: numbers and states only', async () => {
    const { locationId, orderId, customer } = await orderFixture('prepped');
    const board = await openSse(`${baseB}/v1/board/${locationId}/events`);
    const [snapshot] = await board.waitFor((e) => e.event === 'snapshot');
    expect(snapshot!.data.orders).toEqual([
      { number: orderId.replace(/-/g, '').slice(0, 4).toUpperCase(), state: 'preparing' },
    ]);
    await append(streams.location(locationId), 'order.status', {
      orderId,
      status: 'out_for_delivery',
      reason: null,
      totalCents: 500,
      customerId: customer.id,
    });
    await append(streams.location(locationId), 'delivery.status', {
      orderId,
      deliveryStatus: 'picked_up',
      driverId: randomUUID(),
    });
    await append(streams.location(locationId), 'order.status', {
      orderId,
      status: 'completed',
      reason: null,
      totalCents: 500,
    });
    const changes = await board.waitFor((e) => e.event === 'board', 2);
    expect(changes.map((e) => e.data.state)).toEqual(['out_for_delivery', 'done']);
    const everything = JSON.stringify(board.events.map((e) => e.data));
    expect(everything).not.toContain(orderId);
    expect(everything).not.toContain(customer.id);
    expect(everything).not.toContain('Secret Street');
    expect(JSON.stringify(changes.map((e) => e.data))).not.toMatch(UUID);
    board.close();
  });
});

describe('refusals before any event', () => {
  it('refuses a malformed Last-Event-ID with 400', async () => {
    const { customer, orderId, locationId } = await orderFixture();
    for (const bad of ['abc', '-1', '1.5', '12345678901234567890', '0x10']) {
      const res = await openSse(`${stack.baseUrl}/v1/orders/${orderId}/events`, {
        headers: { ...auth(customer.token), 'last-event-id': bad },
      });
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toBe('invalid_last_event_id');
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
    }
    const board = await openSse(`${stack.baseUrl}/v1/board/${locationId}/events`, {
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(board.status).toBe(400);
  });

  it("answers someone else's order stream with 404, a missing login with 401, a driver with 403", async () => {
    const { orderId, locationId } = await orderFixture();
    const url = `${stack.baseUrl}/v1/orders/${orderId}/events`;
    const stranger = await createUser(stack.db, 'customer');
    const otherOwner = await createUser(stack.db, 'owner', { locationIds: [await createLocation(stack.db)] });
    for (const token of [stranger.token, otherOwner.token]) {
      const res = await openSse(url, { headers: auth(token) });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'not_found' });
      expect(res.events).toEqual([]);
    }
    expect(
      (await openSse(`${stack.baseUrl}/v1/orders/${randomUUID()}/events`, { headers: auth(stranger.token) })).status,
    ).toBe(404);
    expect((await openSse(url)).status).toBe(401);
    expect((await openSse(url, { headers: auth((await createUser(stack.db, 'driver')).token) })).status).toBe(403);
    expect((await openSse(`${stack.baseUrl}/v1/board/${randomUUID()}/events`)).status).toBe(404);

    // The order's own people get it: its location's owner and an operator.
    const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
    for (const token of [owner.token, (await createUser(stack.db, 'operator')).token]) {
      const ok = await openSse(url, { headers: auth(token) });
      expect(ok.status).toBe(200);
      ok.close();
    }
  });
});

describe('flow control and lifecycle', () => {
  it('drops a client that never reads, while another client on the same stream receives everything', async () => {
    const { customer, orderId } = await orderFixture();
    const url = `${baseB}/v1/orders/${orderId}/events`;
    const before = appB.liveStreams.stats();
    const stalled = await openStalledSse(url, auth(customer.token));
    const reader = await openSse(url, { headers: auth(customer.token) });
    await eventually(
      async () => appB.liveStreams.stats().open,
      (open) => open === before.open + 2,
    );

    // 16 MiB in 256 events: more than loopback's socket buffers (several MiB) plus the 128 KiB bound.
    const padding = 'x'.repeat(64 * 1024);
    const count = 256;
    for (let batch = 0; batch < count / 32; batch++) {
      await stack.db.transaction(async (trx) => {
        for (let i = 0; i < 32; i++)
          await appendEvent(trx, streams.order(orderId), 'test.bulk' as EventType, {
            orderId,
            i: batch * 32 + i,
            padding,
          });
      });
    }
    const received = await reader.waitFor((e) => e.event === 'test.bulk', count, 30_000);
    expect(received.map((e) => e.data.i)).toEqual(Array.from({ length: count }, (_, i) => i));
    const after = await eventually(
      async () => appB.liveStreams.stats(),
      (s) => s.droppedSlowClients === before.droppedSlowClients + 1,
    );
    expect(after.droppedSlowClients).toBe(before.droppedSlowClients + 1);
    expect(after.open).toBe(before.open + 1);
    reader.close();
    stalled.socket.destroy();
  });

  it('sends heartbeat comments on idle streams', async () => {
    const { locationId } = await orderFixture();
    const board = await openSse(`${baseB}/v1/board/${locationId}/events`);
    await eventually(
      async () => board.comments.length,
      (n) => n >= 2,
      3_000,
    );
    expect(board.comments).toContain('heartbeat');
    board.close();
  });

  it('turns streams away past its limit, and ends every open stream on shutdown so the process closes promptly', async () => {
    const app = await buildApp({
      config: stack.config,
      db: stack.db,
      temporal: stack.client,
      logger: false,
      live: { maxStreams: 3 },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const { customer, orderId, locationId } = await orderFixture();
    const clients = await Promise.all([
      openSse(`${base}/v1/orders/${orderId}/events`, { headers: auth(customer.token) }),
      openSse(`${base}/v1/board/${locationId}/events`),
      openSse(`${base}/v1/locations/${locationId}/slots/events`),
    ]);
    await eventually(
      async () => app.liveStreams.stats().open,
      (n) => n === 3,
    );
    const refused = await openSse(`${base}/v1/board/${locationId}/events`);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('too_many_streams');
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await Promise.all(clients.map((c) => c.ended));
  });
});

describe('the session cookie', () => {
  it('logs a page in once, carries the session on streams, and guards state changes with the CSRF header', async () => {
    const { customer, orderId } = await orderFixture('awaiting_payment');
    const login = (headers: Record<string, string>, token = customer.token) =>
      stack.api('POST', '/v1/session', { body: { token }, headers });

    expect((await login({})).body.error).toBe('csrf_required');
    expect((await login({ 'x-csrf': '1' }, 'not-a-token')).status).toBe(401);
    const res = await login({ 'x-csrf': '1' });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: customer.id, role: 'customer' });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^session=/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(customer.token);
    const cookie = setCookie.split(';')[0]!;

    expect((await stack.api('GET', '/v1/session', { headers: { cookie } })).body.user.id).toBe(customer.id);
    const stream = await openSse(`${stack.baseUrl}/v1/orders/${orderId}/events`, { headers: { cookie } });
    expect(stream.status).toBe(200);
    stream.close();

    // A state change riding on the cookie needs the header a cross-site form cannot send.
    const forged = await stack.api('POST', `/v1/orders/${orderId}/cancel`, { headers: { cookie } });
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('csrf_required');

    const tampered = cookie.replace(/session=(.)/, (_m, c: string) => `session=${c === 'a' ? 'b' : 'a'}`);
    expect((await stack.api('GET', '/v1/session', { headers: { cookie: tampered } })).status).toBe(401);

    const logout = await stack.api('DELETE', '/v1/session', { headers: { cookie, 'x-csrf': '1' } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/session=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/);
  });
});
