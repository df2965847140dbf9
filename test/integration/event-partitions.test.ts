// The event log partitioned by UTC day on the real stack: a populated log migrated from the previous schema, the
// Schedule making partitions ahead and dropping a day past retention but never one an open order needs, and a live
// stream resumed across midnight, from one partition into the next.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventPartitionsResult } from '../../activities/event-partitions.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createRepositories } from '../../src/db/repositories/index.js';
import { partitionName, utcDay } from '../../src/db/repositories/event-partitions.js';
import { EVENTS_CHANNEL, streams } from '../../src/events/log.js';
import { eventPartitionsSchedule } from '../../src/schedules.js';
import { openSse } from '../support/sse.js';
import { createLocation, createUser, eventually, startTestStack, type TestStack } from '../support/stack.js';

const DAY_MS = 86_400_000;
const today = utcDay(new Date());
const day = (offset: number) => new Date(today.getTime() + offset * DAY_MS);

/** A database of its own on the test server: these tests drop and detach partitions. */
async function freshDatabase(prefix: string): Promise<string> {
  const serverUrl = inject('databaseUrl');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(withDatabase(serverUrl, 'postgres'), name);
  return withDatabase(serverUrl, name);
}

/** The log's partitions as Postgres lists them. */
async function partitionTree(db: Knex): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { relid: string }[] }>(
    "SELECT relid::text FROM pg_partition_tree('events') WHERE isleaf ORDER BY relid::text",
  );
  return rows.map((r) => r.relid);
}

/** Logs an event at a chosen time, announced like appendEvent announces it. */
async function logEventAt(
  db: Knex,
  stream: string,
  type: string,
  payload: object,
  createdAt: Date,
): Promise<{ id: number; partition: string }> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { id: number; partition: string }[] }>(
      'INSERT INTO events (stream, type, payload, created_at) VALUES (?, ?, ?, ?) RETURNING id, tableoid::regclass::text AS partition',
      [stream, type, JSON.stringify(payload), createdAt],
    );
    await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, JSON.stringify({ id: rows[0]!.id, stream, type })]);
    return rows[0]!;
  });
}

const partitionOf = async (db: Knex, id: number) =>
  (
    await db.raw<{ rows: { partition: string }[] }>(
      'SELECT tableoid::regclass::text AS partition FROM events WHERE id = ?',
      [id],
    )
  ).rows[0]?.partition;

describe('migrating the log from the previous schema', () => {
  it('moves every event into the partition of its day, keeps their ids, and carries the id sequence on', async () => {
    const db = createDb(await freshDatabase('events_migration'), { max: 2 });
    try {
      const upTo018 = migrations.slice(0, migrations.findIndex(([name]) => name === '018_collect_by') + 1);
      await db.migrate.latest({
        migrationSource: {
          getMigrations: async () => upTo018.map(([name]) => name),
          getMigrationName: (name: string) => name,
          getMigration: async (name: string) => upTo018.find(([n]) => n === name)![1],
        },
      });
      const { rows: before } = await db.raw<{ rows: { id: number; created_at: Date }[] }>(
        `INSERT INTO events (stream, type, payload, created_at)
         SELECT 'location:' || (n % 7), 'stock.received', '{}'::jsonb, ?::timestamptz - make_interval(hours => n)
         FROM generate_series(1, 300) AS n RETURNING id, created_at`,
        [today],
      );
      expect((await db.raw("SELECT relkind FROM pg_class WHERE relname = 'events'")).rows[0].relkind).toBe('r');

      expect(await migrateLatest(db)).toContain('019_events_partitioned');

      expect((await db.raw("SELECT relkind FROM pg_class WHERE relname = 'events'")).rows[0].relkind).toBe('p');
      // 300 hours back from midnight: the 13 days before today, today and the days ahead, and the default.
      const tree = await partitionTree(db);
      for (let n = -13; n <= 3; n++) expect(tree).toContain(partitionName(day(n)));
      expect(tree).toContain('events_default');
      const { rows: after } = await db.raw<{ rows: { id: number; created_at: Date; partition: string }[] }>(
        'SELECT id, created_at, tableoid::regclass::text AS partition FROM events ORDER BY id',
      );
      expect(after.map((r) => [r.id, r.created_at.toISOString()])).toEqual(
        before.map((r) => [r.id, r.created_at.toISOString()]).sort((a, b) => Number(a[0]) - Number(b[0])),
      );
      for (const row of after) expect(row.partition).toBe(partitionName(utcDay(row.created_at)));

      const highest = Math.max(...before.map((r) => r.id));
      const [next] = await db('events')
        .insert({ stream: 'catalog', type: 'catalog.changed', payload: {} })
        .returning('id');
      expect(next.id).toBe(highest + 1);

      // A resume can read every partition by an index. Tables this small the planner may rightly read whole, so
      // sequential scans are taken off the table for the question: a partition without the index would still show one.
      const text = await db.transaction(async (trx) => {
        await trx.raw('SET LOCAL enable_seqscan = off');
        const { rows } = await trx.raw<{ rows: { 'QUERY PLAN': string }[] }>(
          `EXPLAIN SELECT id, stream, type, payload, created_at FROM events
           WHERE stream = 'location:3' AND id > 100 AND id <= 400 ORDER BY id LIMIT 500`,
        );
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(text).toMatch(/Index Scan using events_\d{8}_(stream_id_idx|pkey)/);
      expect(text).not.toMatch(/Seq Scan/);

      // And back: the log is one table again with every event.
      await db.migrate.down({
        migrationSource: {
          getMigrations: async () => migrations.map(([name]) => name),
          getMigrationName: (name: string) => name,
          getMigration: async (name: string) => migrations.find(([n]) => n === name)![1],
        },
        name: '020_replication_heartbeat',
      });
      await db.migrate.down({
        migrationSource: {
          getMigrations: async () => migrations.map(([name]) => name),
          getMigrationName: (name: string) => name,
          getMigration: async (name: string) => migrations.find(([n]) => n === name)![1],
        },
        name: '019_events_partitioned',
      });
      expect((await db.raw("SELECT relkind FROM pg_class WHERE relname = 'events'")).rows[0].relkind).toBe('r');
      expect(Number((await db('events').count('* as n').first())!.n)).toBe(301);
    } finally {
      await db.destroy();
    }
  });
});

describe('the event partitions Schedule', () => {
  let stack: TestStack;
  const scheduleIds: string[] = [];

  beforeAll(async () => {
    const databaseUrl = await freshDatabase('events_partitions');
    const migrator = createDb(databaseUrl, { max: 1 });
    await migrateLatest(migrator);
    await migrator.destroy();
    stack = await startTestStack({ DATABASE_URL: databaseUrl, EVENTS_RETENTION_DAYS: '14' });
  });

  afterAll(async () => {
    for (const id of scheduleIds) await stack?.client.schedule.getHandle(id).delete();
    await stack?.stop();
  });

  /** Triggers the Schedule, as its hourly spec would, and waits for the run it started. */
  async function runSchedule(): Promise<EventPartitionsResult> {
    const options = eventPartitionsSchedule(stack.config.temporal.taskQueue);
    const scheduleId = `${options.scheduleId}-${randomUUID()}`;
    scheduleIds.push(scheduleId);
    // Paused, so only the trigger starts it.
    const handle = await stack.client.schedule.create({ ...options, scheduleId, state: { paused: true } });
    await handle.trigger();
    const described = await eventually(
      () => handle.describe(),
      (d) => d.info.recentActions.length > 0,
    );
    const run = described.info.recentActions[0]!.action.workflow;
    return stack.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
  }

  it('makes the coming days ahead, moves what the default partition caught, and drops a day past retention', async () => {
    const repos = createRepositories(stack.db);
    const location = await createLocation(stack.db);
    // A day ahead not made yet, as when the Schedule was down; an event logged for a day with no partition at all.
    const aheadDay = partitionName(day(3));
    await stack.db.raw(`ALTER TABLE events DETACH PARTITION ${aheadDay}`);
    await stack.db.raw(`DROP TABLE ${aheadDay}`);
    const caught = await logEventAt(
      stack.db,
      streams.location(location),
      'stock.received',
      {},
      new Date(day(9).getTime() + 3_600_000),
    );
    expect(caught.partition).toBe('events_default');
    // Twenty days ago, when its partition was made ahead like any other.
    expect(await repos.eventPartitions.createDay(day(-20))).toBe(true);
    const old = await logEventAt(
      stack.db,
      streams.location(location),
      'stock.received',
      {},
      new Date(day(-20).getTime() + 60_000),
    );
    expect(old.partition).toBe(partitionName(day(-20)));
    expect(await partitionTree(stack.db)).toEqual(expect.arrayContaining([partitionName(day(-20)), 'events_default']));

    const result = await runSchedule();

    expect(result.created).toEqual([aheadDay, partitionName(day(9))]);
    expect(result.dropped).toEqual([partitionName(day(-20))]);
    const tree = await partitionTree(stack.db);
    expect(tree).toEqual(expect.arrayContaining([aheadDay, partitionName(day(9)), partitionName(today)]));
    expect(tree).not.toContain(partitionName(day(-20)));
    expect(await partitionOf(stack.db, caught.id)).toBe(partitionName(day(9)));
    expect(await partitionOf(stack.db, old.id)).toBeUndefined();
    const drop = await stack
      .db('event_partition_drops')
      .where({ partition_name: partitionName(day(-20)) })
      .first();
    expect(drop.last_event_id).toBe(old.id);
    expect(drop.range_from.toISOString()).toBe(day(-20).toISOString());

    // A second run finds nothing to do.
    expect(await runSchedule()).toEqual({ created: [], dropped: [], kept: [] });
  });

  it('keeps a day past retention that holds an open order’s events, and drops it once the order is done', async () => {
    const repos = createRepositories(stack.db);
    const location = await createLocation(stack.db);
    const customer = await createUser(stack.db, 'customer');
    const orderId = randomUUID();
    const placedAt = new Date(day(-18).getTime() + 3_600_000);
    await repos.eventPartitions.createDay(day(-18));
    await stack.db('orders').insert({
      id: orderId,
      customer_id: customer.id,
      location_id: location,
      status: 'confirmed',
      total_cents: 300,
      address: { lat: 51.5, lng: -0.1, line1: '1 Old Street' },
      created_at: placedAt,
    });
    const placed = await logEventAt(stack.db, streams.order(orderId), 'order.placed', { orderId }, placedAt);
    expect(placed.partition).toBe(partitionName(day(-18)));

    const held = await runSchedule();
    expect(held.kept).toEqual([{ partition: partitionName(day(-18)), orderId }]);
    expect(held.dropped).toEqual([]);
    expect(await partitionTree(stack.db)).toContain(partitionName(day(-18)));
    expect(await partitionOf(stack.db, placed.id)).toBe(partitionName(day(-18)));

    await stack.db('orders').where({ id: orderId }).update({ status: 'completed' });
    const released = await runSchedule();
    expect(released.dropped).toEqual([partitionName(day(-18))]);
    expect(await partitionTree(stack.db)).not.toContain(partitionName(day(-18)));
  });

  it('resumes a live stream across midnight UTC, from one day’s partition into the next, then goes on live', async () => {
    const repos = createRepositories(stack.db);
    const location = await createLocation(stack.db);
    await repos.eventPartitions.createDay(day(-1));
    const stream = streams.location(location);
    const board = (orderId: string) => ({ orderId, status: 'prepping' });
    const beforeMidnight = await logEventAt(
      stack.db,
      stream,
      'order.status',
      board(randomUUID()),
      new Date(today.getTime() - 1),
    );
    const afterMidnight = await logEventAt(
      stack.db,
      stream,
      'order.status',
      board(randomUUID()),
      new Date(today.getTime() + 1),
    );
    expect(beforeMidnight.partition).toBe(partitionName(day(-1)));
    expect(afterMidnight.partition).toBe(partitionName(today));

    // The client last saw the event before midnight.
    const client = await openSse(`${stack.baseUrl}/v1/board/${location}/events`, {
      headers: { 'last-event-id': String(beforeMidnight.id) },
    });
    expect(client.status).toBe(200);
    const [replayed] = await client.waitFor((e) => e.event === 'board');
    expect(replayed!.id).toBe(String(afterMidnight.id));
    const live = await repos.events.append(stream, 'order.status', board(randomUUID()));
    const received = await client.waitFor((e) => e.event === 'board', 2);
    expect(received.map((e) => e.id)).toEqual([String(afterMidnight.id), String(live)]);
    // Nothing but the missed event and the live one: no snapshot, no repeat of what the client had.
    expect(client.events.map((e) => e.event)).toEqual(['board', 'board']);
    client.close();
  });

  it('gives a stream resuming from before a dropped day a fresh snapshot instead of a backlog with holes', async () => {
    const droppedThrough = await createRepositories(stack.db).eventPartitions.droppedThroughId();
    expect(droppedThrough).toBeGreaterThan(0);
    const location = await createLocation(stack.db);
    const client = await openSse(`${stack.baseUrl}/v1/board/${location}/events`, {
      headers: { 'last-event-id': String(droppedThrough - 1) },
    });
    const [first] = await client.waitFor(() => true);
    expect(first!.event).toBe('snapshot');
    client.close();
  });
});
