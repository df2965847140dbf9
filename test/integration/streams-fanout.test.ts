// The LISTEN fan-out on real Postgres: id order despite out-of-order commits, rolled-back ids skipped, late commits delivered, outages caught up.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createDb } from '../../src/db/knex.js';
import { createEventFanout, type EventFanout } from '../../src/events/fanout.js';
import { appendEvent, NOTIFIED_PAYLOAD_MAX_BYTES } from '../../src/db/repositories/events.js';
import { EVENTS_CHANNEL, type EventRecord, type EventType } from '../../src/events/log.js';
import { eventually } from '../support/stack.js';
import '../support/context.js';

/** Not a product event type: these tests watch the log itself. */
const TEST_STEP = 'test.step' as EventType;

let db: Knex;
const fanouts: EventFanout[] = [];

beforeAll(() => {
  db = createDb(inject('databaseUrl'));
});

afterAll(async () => {
  for (const fanout of fanouts) await fanout.close();
  await db?.destroy();
});

async function follow(
  stream: string,
  opts: { gapGraceMs: number; applicationName?: string; reconnectDelayMs?: number },
) {
  const fanout = createEventFanout({ databaseUrl: inject('databaseUrl'), db, ...opts });
  fanouts.push(fanout);
  await fanout.ready();
  const received: EventRecord[] = [];
  const lost: string[] = [];
  const subscription = fanout.subscribe([stream], {
    onEvent: (e) => received.push(e),
    onLost: (reason) => lost.push(reason),
  });
  return { fanout, received, lost, subscription, ids: () => received.map((e) => e.id) };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('delivers in id order when a later id commits first, holding it until the earlier one commits', async () => {
  const stream = `test:${randomUUID()}`;
  const live = await follow(stream, { gapGraceMs: 5_000 });
  const first = await db.transaction();
  const second = await db.transaction();
  const a = await appendEvent(first, stream, TEST_STEP, { n: 1 });
  const b = await appendEvent(second, stream, TEST_STEP, { n: 2 });
  expect(b).toBeGreaterThan(a);
  await second.commit();
  await pause(150);
  // b is committed, but a may still commit: delivering b now would let a arrive after it.
  expect(live.ids()).toEqual([]);
  await first.commit();
  expect(
    await eventually(
      async () => live.ids(),
      (ids) => ids.length === 2,
      3_000,
    ),
  ).toEqual([a, b]);
});

it('delivers an event its notification carries whole without reading it back from the table', async () => {
  const stream = `test:${randomUUID()}`;
  const live = await follow(stream, { gapGraceMs: 200 });
  // An id the log hands out but no row holds: only the notification knows this event.
  const [{ id }] = (await db.raw(`SELECT nextval(pg_get_serial_sequence('events', 'id'))::int AS id`)).rows;
  const createdAt = new Date().toISOString();
  const event = { id, stream, type: TEST_STEP, payload: { n: 1 }, createdAt };
  await db.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, JSON.stringify(event)]);
  expect(
    await eventually(
      async () => live.received,
      (received) => received.length === 1,
      3_000,
    ),
  ).toEqual([event]);
});

it('reads back an event too big for its notification, and gives the same record either way', async () => {
  const stream = `test:${randomUUID()}`;
  const live = await follow(stream, { gapGraceMs: 200 });
  const small = await appendEvent(db, stream, TEST_STEP, { n: 1 });
  const big = await appendEvent(db, stream, TEST_STEP, { n: 2, text: 'x'.repeat(NOTIFIED_PAYLOAD_MAX_BYTES) });
  const received = await eventually(
    async () => live.received,
    (r) => r.length === 2,
    3_000,
  );
  const rows = await db('events').whereIn('id', [small, big]).orderBy('id');
  expect(received).toEqual(
    rows.map((r) => ({
      id: Number(r.id),
      stream,
      type: TEST_STEP,
      payload: r.payload,
      createdAt: r.created_at.toISOString(),
    })),
  );
});

it('skips an id whose transaction rolled back once the grace period passes', async () => {
  const stream = `test:${randomUUID()}`;
  const live = await follow(stream, { gapGraceMs: 200 });
  const doomed = await db.transaction();
  await appendEvent(doomed, stream, TEST_STEP, { n: 1 });
  const kept = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 2 }));
  await doomed.rollback();
  expect(
    await eventually(
      async () => live.ids(),
      (ids) => ids.length === 1,
      3_000,
    ),
  ).toEqual([kept]);
  expect(live.fanout.stats().skippedIds).toBeGreaterThanOrEqual(1);
});

it('still delivers an event whose slow transaction commits after its id was given up on', async () => {
  const stream = `test:${randomUUID()}`;
  const live = await follow(stream, { gapGraceMs: 150 });
  const slow = await db.transaction();
  const late = await appendEvent(slow, stream, TEST_STEP, { n: 1 });
  const quick = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 2 }));
  await eventually(
    async () => live.ids(),
    (ids) => ids.length === 1,
    3_000,
  );
  await slow.commit();
  expect(
    await eventually(
      async () => live.ids(),
      (ids) => ids.length === 2,
      3_000,
    ),
  ).toEqual([quick, late]);
  expect(live.fanout.stats().lateEvents).toBe(1);
});

it('catches up from the table after losing its LISTEN connection, in order and without repeats', async () => {
  const stream = `test:${randomUUID()}`;
  const applicationName = `fanout-test-${randomUUID().slice(0, 8)}`;
  const live = await follow(stream, { gapGraceMs: 500, applicationName, reconnectDelayMs: 300 });
  const before = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 0 }));
  await eventually(
    async () => live.ids(),
    (ids) => ids.length === 1,
    3_000,
  );

  await db.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?', [applicationName]);
  await eventually(
    async () => live.fanout.stats().connected,
    (connected) => !connected,
    3_000,
  );
  // Committed while nobody listens: only the table knows.
  const during: number[] = [];
  for (let n = 1; n <= 3; n++)
    during.push(await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n })));

  await eventually(
    async () => live.fanout.stats().connected,
    (connected) => connected,
    5_000,
  );
  const after = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 4 }));
  expect(
    await eventually(
      async () => live.ids(),
      (ids) => ids.length === 5,
      5_000,
    ),
  ).toEqual([before, ...during, after]);
  expect(live.lost).toEqual([]);
});

it('gives a new subscriber only what settles after its watermark; the table holds the rest', async () => {
  const stream = `test:${randomUUID()}`;
  const early = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 0 }));
  const live = await follow(stream, { gapGraceMs: 500 });
  expect(live.subscription.watermark).toBeGreaterThanOrEqual(early);
  const next = await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 1 }));
  expect(
    await eventually(
      async () => live.ids(),
      (ids) => ids.length === 1,
      3_000,
    ),
  ).toEqual([next]);
  live.subscription.unsubscribe();
  await db.transaction(async (trx) => appendEvent(trx, stream, TEST_STEP, { n: 2 }));
  await pause(200);
  expect(live.ids()).toEqual([next]);
});
