// The event log's day partitions: the one place that creates, fills from the default partition and drops them, and
// the log of what was dropped. A partition past retention is dropped only when no open order has an event in it.
import type { Knex } from 'knex';
import { TERMINAL_STATUSES } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';

const DAY_MS = 86_400_000;
const DEFAULT_PARTITION = 'events_default';
// One maintainer at a time, whichever worker its Schedule's run landed on.
const MAINTENANCE_LOCK = 'events_partitions';
// A drop or attach waits this long for the queries ahead of it; past that it gives up until the next run, rather than
// stall every event reader queued behind its lock.
const LOCK_TIMEOUT = '5s';

export interface EventPartition {
  name: string;
  /** Null for the default partition. */
  from: Date | null;
  to: Date | null;
}

export interface PartitionKept {
  partition: string;
  /** The open order with an event in it. */
  orderId: string;
}

/** The UTC midnight starting the day `at` falls in. */
export const utcDay = (at: Date): Date => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

/** events_YYYYMMDD, for the UTC day starting at `day`. */
export const partitionName = (day: Date): string => `events_${day.toISOString().slice(0, 10).replaceAll('-', '')}`;

/**
 * The first open order (not in a terminal status) with an event in the partition, or undefined. An order's events are
 * logged from the transaction that creates its row on, so only open orders created before the partition's end can
 * have one in it; the partial index on open orders finds those, and each is one probe of the partition's stream index.
 * A terminal status is never left, so an order found closed here stays closed.
 */
async function openOrderIn(db: Knex, partition: EventPartition): Promise<string | undefined> {
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `SELECT o.id FROM orders o
     WHERE o.status NOT IN (${TERMINAL_STATUSES.map(() => '?').join(', ')}) AND o.created_at < ?
       AND EXISTS (SELECT 1 FROM ${partition.name} e WHERE e.stream = ? || o.id::text)
     LIMIT 1`,
    [...TERMINAL_STATUSES, partition.to, streams.order('')],
  );
  return rows[0]?.id;
}

export function createEventPartitionRepository(db: Knex) {
  return {
    /** Every partition of the log, oldest first, the default one last. */
    async list(): Promise<EventPartition[]> {
      const { rows } = await db.raw<{ rows: { name: string; from: Date | null; to: Date | null }[] }>(`
        SELECT c.relname AS name, bounds[1]::timestamptz AS "from", bounds[2]::timestamptz AS "to"
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS bounds
        WHERE i.inhparent = 'events'::regclass
        ORDER BY bounds[1]::timestamptz NULLS LAST`);
      return rows;
    },

    /** The UTC days that have rows in the default partition: days whose partition was not there in time. */
    async daysInDefault(): Promise<Date[]> {
      const { rows } = await db.raw<{ rows: { day: Date }[] }>(
        `SELECT DISTINCT date_trunc('day', created_at, 'UTC') AS day FROM ${DEFAULT_PARTITION} ORDER BY day`,
      );
      return rows.map((r) => r.day);
    },

    /**
     * Creates the partition of the UTC day starting at `day`, moving in any of its rows the default partition caught;
     * false when it exists. Built beside the log and attached, which locks readers out of the default partition only
     * while it is checked, never out of the log.
     */
    async createDay(day: Date): Promise<boolean> {
      const name = partitionName(day);
      const from = day.toISOString();
      const to = new Date(day.getTime() + DAY_MS).toISOString();
      return db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [MAINTENANCE_LOCK]);
        await trx.raw(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const { rows } = await trx.raw<{ rows: unknown[] }>(
          `SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'events'::regclass AND c.relname = ?`,
          [name],
        );
        if (rows.length > 0) return false;
        // DDL takes no parameters: the name and both bounds come from a Date, never from input.
        await trx.raw(`CREATE TABLE ${name} (LIKE events INCLUDING DEFAULTS)`);
        // With its bound as a constraint, attaching need not scan the new table.
        await trx.raw(
          `ALTER TABLE ${name} ADD CONSTRAINT ${name}_bound CHECK (created_at >= '${from}' AND created_at < '${to}')`,
        );
        await trx.raw(
          `WITH caught AS (
             DELETE FROM ${DEFAULT_PARTITION} WHERE created_at >= ? AND created_at < ?
             RETURNING id, stream, type, payload, created_at
           )
           INSERT INTO ${name} (id, stream, type, payload, created_at) SELECT * FROM caught`,
          [from, to],
        );
        await trx.raw(`ALTER TABLE events ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
        await trx.raw(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_bound`);
        return true;
      });
    },

    /**
     * Drops the partition and records its highest id, unless an open order has an event in it: then it stays, and
     * the answer names that order.
     */
    async dropUnlessNeeded(
      partition: EventPartition,
    ): Promise<{ dropped: true } | { dropped: false; orderId: string }> {
      if (!partition.from || !partition.to) throw new Error('the default partition is never dropped');
      return db.transaction(async (trx) => {
        await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [MAINTENANCE_LOCK]);
        await trx.raw(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const orderId = await openOrderIn(trx, partition);
        if (orderId) return { dropped: false, orderId };
        const { rows } = await trx.raw<{ rows: { max: number | null }[] }>(
          `SELECT max(id) AS max FROM ${partition.name}`,
        );
        await trx('event_partition_drops')
          .insert({
            partition_name: partition.name,
            range_from: partition.from,
            range_to: partition.to,
            last_event_id: rows[0]?.max ?? null,
          })
          .onConflict('partition_name')
          .merge();
        await trx.raw(`DROP TABLE ${partition.name}`);
        return { dropped: true };
      });
    },

    /** The highest id of any dropped event: a stream resuming from below it may have missed events. 0 when none. */
    async droppedThroughId(): Promise<number> {
      const row = await db('event_partition_drops').max<{ max: number | null }>('last_event_id as max').first();
      return Number(row?.max ?? 0);
    },
  };
}

export type EventPartitionRepository = ReturnType<typeof createEventPartitionRepository>;
