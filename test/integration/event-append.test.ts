// One change appended to several streams in one statement: a row per stream in the order given, a NOTIFY per row, and
// the location's webhooks queued once, from the location's row, with the ordering key its payload gives.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createDb } from '../../src/db/knex.js';
import { appendEvent, appendEvents } from '../../src/db/repositories/events.js';
import { WEBHOOK_DELIVERIES_CHANNEL } from '../../src/db/repositories/webhook-deliveries.js';
import { EVENTS_CHANNEL, streams } from '../../src/events/log.js';
import { createOrderActivities } from '../../activities/orders.js';
import { createLocation, createUser, recordPlacedOrder } from '../support/stack.js';
import '../support/context.js';

let db: Knex;
let listener: pg.Client;
const heard: { channel: string; payload: string }[] = [];

beforeAll(async () => {
  db = createDb(inject('databaseUrl'));
  listener = new pg.Client({ connectionString: inject('databaseUrl') });
  await listener.connect();
  listener.on('notification', (n) => heard.push({ channel: n.channel, payload: n.payload ?? '' }));
  await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
  await listener.query(`LISTEN ${WEBHOOK_DELIVERIES_CHANNEL}`);
});

afterAll(async () => {
  await listener?.end();
  await db?.destroy();
});

async function endpoint(locationId: string, events: string[], enabled = true): Promise<string> {
  const [row] = await db('webhook_endpoints')
    .insert({ location_id: locationId, url: 'https://hooks.example.com/in', events, secret: 'whsec_test', enabled })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

const deliveriesOf = (eventIds: number[]) =>
  db('webhook_deliveries')
    .whereIn('event_id', eventIds)
    .orderBy('id')
    .select<{ endpoint_id: string; event_id: number; type: string; ordering_key: string; data: unknown }[]>(
      'endpoint_id',
      'event_id',
      'type',
      'ordering_key',
      'data',
    );

it("appends a row per stream in order, notifies each, and queues the location's webhooks once", async () => {
  const locationId = await createLocation(db);
  const subscribed = await endpoint(locationId, ['delivery.picked_up']);
  await endpoint(locationId, ['delivery.delivered']);
  await endpoint(locationId, ['delivery.picked_up'], false);
  const orderId = randomUUID();
  const driverId = randomUUID();
  const payload = { orderId, deliveryStatus: 'picked_up', driverId };
  const named = [streams.order(orderId), streams.location(locationId), streams.driver(driverId)];

  const ids = await db.transaction((trx) => appendEvents(trx, named, 'delivery.status', payload));

  expect(ids).toHaveLength(3);
  expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  const rows = await db('events')
    .whereIn('id', ids)
    .orderBy('id')
    .select<{ id: string; stream: string; type: string; payload: unknown }[]>('id', 'stream', 'type', 'payload');
  expect(rows.map((r) => [Number(r.id), r.stream, r.type, r.payload])).toEqual(
    named.map((stream, i) => [ids[i], stream, 'delivery.status', payload]),
  );
  await vi.waitFor(() => {
    const events = heard.filter((h) => h.channel === EVENTS_CHANNEL).map((h) => JSON.parse(h.payload));
    expect(events.filter((e) => ids.includes(e.id))).toEqual(
      // Small enough to travel whole: listeners deliver it without reading it back.
      named.map((stream, i) => ({
        id: ids[i],
        stream,
        type: 'delivery.status',
        payload,
        createdAt: expect.any(String),
      })),
    );
    expect(heard.filter((h) => h.channel === WEBHOOK_DELIVERIES_CHANNEL).map((h) => h.payload)).toContain(subscribed);
  });
  // Only the enabled endpoint that subscribes to the type, from the location's row alone.
  expect(await deliveriesOf(ids)).toEqual([
    {
      endpoint_id: subscribed,
      event_id: ids[1],
      type: 'delivery.picked_up',
      ordering_key: `order:${orderId}`,
      data: payload,
    },
  ]);
});

it("keys a delivery whose payload names nothing to order it by with the event's own id", async () => {
  const locationId = await createLocation(db);
  const subscribed = await endpoint(locationId, ['location.changed']);
  const [first, second] = [
    await db.transaction((trx) => appendEvent(trx, streams.location(locationId), 'location.changed', { locationId })),
    await db.transaction((trx) => appendEvent(trx, streams.location(locationId), 'location.changed', { locationId })),
  ];
  expect(await deliveriesOf([first!, second!])).toEqual([
    expect.objectContaining({ endpoint_id: subscribed, event_id: first, ordering_key: `event:${first}` }),
    expect.objectContaining({ endpoint_id: subscribed, event_id: second, ordering_key: `event:${second}` }),
  ]);
});

it("queues a stream's webhooks for the location webhookLocationId names, and none when nothing subscribes", async () => {
  const locationId = await createLocation(db);
  const subscribed = await endpoint(locationId, ['order.placed']);
  const orderId = randomUUID();
  const placed = await db.transaction((trx) =>
    appendEvent(
      trx,
      streams.order(orderId),
      'order.placed',
      { orderId, status: 'placed', totalCents: 100 },
      {
        webhookLocationId: locationId,
      },
    ),
  );
  expect(await deliveriesOf([placed])).toEqual([
    expect.objectContaining({ endpoint_id: subscribed, event_id: placed, ordering_key: `order:${orderId}` }),
  ]);
  const unheard = await db.transaction((trx) =>
    appendEvents(trx, [streams.order(orderId), streams.location(locationId)], 'order.status', {
      orderId,
      status: 'confirmed',
    }),
  );
  expect(await deliveriesOf(unheard)).toEqual([]);
});

it("tells an order's status and its delivery's steps with the change, the location's webhooks from the location's row", async () => {
  const activities = createOrderActivities(db);
  const locationId = await createLocation(db);
  const subscribed = await endpoint(locationId, ['order.awaiting_payment', 'delivery.assigned']);
  const driver = await createUser(db, 'driver', { locationIds: [locationId] });
  const orderId = await recordPlacedOrder(db, { locationId });
  await activities.recordOrderStatus({ orderId, status: 'awaiting_payment' });
  await activities.recordDeliveryStatus({ orderId, locationId, status: 'pending', driverId: null });
  await activities.recordDeliveryStatus({ orderId, locationId, status: 'assigned', driverId: driver.id });
  const told = await db('events')
    .whereIn('stream', [streams.order(orderId), streams.location(locationId), streams.driver(driver.id)])
    .whereIn('type', ['order.status', 'delivery.status'])
    .orderBy('id')
    .select<{ id: number; stream: string; payload: Record<string, unknown> }[]>('id', 'stream', 'payload');
  expect(told.map((e) => [e.stream.split(':')[0], e.payload.status ?? e.payload.deliveryStatus])).toEqual([
    ['order', 'awaiting_payment'],
    ['location', 'awaiting_payment'],
    ['order', 'pending'],
    ['location', 'pending'],
    ['order', 'assigned'],
    ['location', 'assigned'],
    ['driver', 'assigned'],
  ]);
  expect(told[0]!.payload).toEqual({ orderId, status: 'awaiting_payment', reason: null, totalCents: 100 });
  const fromLocation = told.filter((e) => e.stream === streams.location(locationId));
  expect(await deliveriesOf(told.map((e) => e.id))).toEqual([
    expect.objectContaining({ endpoint_id: subscribed, event_id: fromLocation[0]!.id, type: 'order.awaiting_payment' }),
    expect.objectContaining({ endpoint_id: subscribed, event_id: fromLocation[2]!.id, type: 'delivery.assigned' }),
  ]);
});
