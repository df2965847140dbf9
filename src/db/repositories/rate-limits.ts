// Rate-limit counters shared by every API replica: the one writer of rate_limit_counters.
import type { Knex } from 'knex';

// One statement per hit: start a window, or count in the open one. Windows are fixed, as the in-memory store's are.
const HIT = `
  INSERT INTO rate_limit_counters AS c (key, hits, window_ends_at)
  VALUES (:key, 1, clock_timestamp() + :windowMs * interval '1 millisecond')
  ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.window_ends_at <= clock_timestamp() THEN 1 ELSE c.hits + 1 END,
    window_ends_at = CASE WHEN c.window_ends_at <= clock_timestamp() THEN EXCLUDED.window_ends_at ELSE c.window_ends_at END
  RETURNING hits, greatest(0, ceil(extract(epoch FROM c.window_ends_at - clock_timestamp()) * 1000))::int AS ttl_ms`;

export function createRateLimitRepository(db: Knex) {
  return {
    /** Counts one hit on `key` in its current window of `windowMs`; returns the hits so far and the window's time left. */
    async hit(key: string, windowMs: number): Promise<{ hits: number; ttlMs: number }> {
      const { rows } = await db.raw<{ rows: { hits: number; ttl_ms: number }[] }>(HIT, { key, windowMs });
      return { hits: rows[0]!.hits, ttlMs: rows[0]!.ttl_ms };
    },

    /** Takes one hit back from `key`'s open window. */
    async forgive(key: string): Promise<void> {
      await db('rate_limit_counters')
        .where({ key })
        .andWhere('hits', '>', 0)
        .update({ hits: db.raw('hits - 1') });
    },

    /** Forgets the hits counted on `key`. */
    async reset(key: string): Promise<void> {
      await db('rate_limit_counters').where({ key }).delete();
    },

    /** Deletes the counters of windows that have ended; returns how many. */
    async sweep(): Promise<number> {
      return db('rate_limit_counters').where('window_ends_at', '<', db.raw('clock_timestamp()')).delete();
    },
  };
}
