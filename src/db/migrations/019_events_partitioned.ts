// The event log partitioned by UTC day of created_at, so a day past retention goes with one DROP TABLE instead of a
// delete of hundreds of millions of rows. The rows already logged are copied into partitions of their own days; ids
// keep coming from the same sequence, so they stay one increasing series across partitions and resuming by id still
// works. A default partition catches any row whose day has no partition yet, so an insert never fails when the
// Schedule that creates partitions ahead is late. Also: the log of dropped partitions (whose highest id tells a
// resuming stream it may have missed events), and an index on open orders for the retention's check.
import type { Knex } from 'knex';

/** Days created ahead here; the event partitions Schedule keeps the same lead from then on. */
const DAYS_AHEAD = 3;
/** The statuses an order never leaves, as they stood when this migration was written. */
const TERMINAL = ['completed', 'uncollected', 'rejected', 'payment_failed', 'cancelled'];

const DAY_MS = 86_400_000;
const dayName = (day: Date) => `events_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;

async function createDayPartition(knex: Knex, day: Date): Promise<void> {
  const next = new Date(day.getTime() + DAY_MS);
  // DDL takes no parameters; both bounds are ISO strings of our own making.
  await knex.raw(
    `CREATE TABLE ${dayName(day)} PARTITION OF events FOR VALUES FROM ('${day.toISOString()}') TO ('${next.toISOString()}')`,
  );
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
  await knex.raw('ALTER TABLE events RENAME TO events_unpartitioned');
  await knex.raw('ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey');
  await knex.raw('ALTER INDEX events_stream_id_index RENAME TO events_unpartitioned_stream_id_index');

  // A partitioned table's primary key must hold its partition key. The id alone stays unique because every row takes
  // it from events_id_seq and no writer sets one itself.
  await knex.raw(`
    CREATE TABLE events (
      id bigint NOT NULL DEFAULT nextval('events_id_seq'),
      stream text NOT NULL,
      type text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (id, created_at)
    ) PARTITION BY RANGE (created_at)`);
  // Each partition gets its own (stream, id) index: a resume reads a stream's ids past Last-Event-ID from each.
  await knex.raw('CREATE INDEX events_stream_id_index ON events (stream, id)');
  await knex.raw('ALTER SEQUENCE events_id_seq OWNED BY events.id');
  await knex.raw('CREATE TABLE events_default PARTITION OF events DEFAULT');

  const { rows } = await knex.raw<{ rows: { day: Date }[] }>(
    `SELECT DISTINCT date_trunc('day', created_at, 'UTC') AS day FROM events_unpartitioned
     UNION SELECT date_trunc('day', now(), 'UTC') + make_interval(days => n) FROM generate_series(0, ?) AS n
     ORDER BY day`,
    [DAYS_AHEAD],
  );
  for (const { day } of rows) await createDayPartition(knex, day);
  await knex.raw(
    'INSERT INTO events (id, stream, type, payload, created_at) SELECT id, stream, type, payload, created_at FROM events_unpartitioned',
  );
  await knex.raw('DROP TABLE events_unpartitioned');

  await knex.schema.createTable('event_partition_drops', (t) => {
    t.text('partition_name').primary();
    t.timestamp('range_from', { useTz: true }).notNullable();
    t.timestamp('range_to', { useTz: true }).notNullable();
    // Every id at or below this may be gone: a stream resuming from an older id gets a fresh snapshot.
    t.bigInteger('last_event_id');
    t.timestamp('dropped_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.raw(
    `CREATE INDEX orders_open_created_idx ON orders (created_at) WHERE status NOT IN (${TERMINAL.map((s) => `'${s}'`).join(', ')})`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS orders_open_created_idx');
  await knex.schema.dropTableIfExists('event_partition_drops');
  await knex.raw('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
  await knex.raw('ALTER TABLE events RENAME TO events_partitioned');
  await knex.raw('ALTER INDEX events_pkey RENAME TO events_partitioned_pkey');
  await knex.raw('ALTER INDEX events_stream_id_index RENAME TO events_partitioned_stream_id_index');
  await knex.raw(`
    CREATE TABLE events (
      id bigint PRIMARY KEY DEFAULT nextval('events_id_seq'),
      stream text NOT NULL,
      type text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await knex.raw('CREATE INDEX events_stream_id_index ON events (stream, id)');
  await knex.raw('ALTER SEQUENCE events_id_seq OWNED BY events.id');
  await knex.raw(
    'INSERT INTO events (id, stream, type, payload, created_at) SELECT id, stream, type, payload, created_at FROM events_partitioned',
  );
  await knex.raw('DROP TABLE events_partitioned');
}
