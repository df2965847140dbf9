// A store for @fastify/rate-limit that keeps its counters in Postgres, so every API replica counts against one budget.
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Knex } from 'knex';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

// One statement per hit: start a window, or count in the open one. Windows are fixed, as the in-memory store's are.
const HIT = `
  INSERT INTO rate_limit_counters AS c (key, hits, window_ends_at)
  VALUES (:key, 1, clock_timestamp() + :windowMs * interval '1 millisecond')
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.window_ends_at <= clock_timestamp() THEN 1 ELSE c.hits + 1 END,
    window_ends_at = CASE WHEN c.window_ends_at <= clock_timestamp() THEN EXCLUDED.window_ends_at ELSE c.window_ends_at END
  RETURNING hits, greatest(0, ceil(extract(epoch FROM c.window_ends_at - clock_timestamp()) * 1000))::int AS ttl_ms`;

/** A store class bound to `db`, as the plugin's `store` option wants a constructor. */
export function postgresRateLimitStore(db: Knex): new () => FastifyRateLimitStore {
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      db.raw<{ rows: { hits: number; ttl_ms: number }[] }>(HIT, { key, windowMs: timeWindow })
        .then(({ rows }) => callback(null, { current: rows[0]!.hits, ttl: rows[0]!.ttl_ms }))
        .catch((err: Error) => callback(err));
    }

    // Keys carry their route already (see the security plugin), so every route can share one table.
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/** Deletes the counters of windows that have ended; any replica may run it, at any time. */
export async function sweepRateLimitCounters(db: Knex): Promise<number> {
  return db('rate_limit_counters').where('window_ends_at', '<', db.raw('clock_timestamp()')).delete();
}
