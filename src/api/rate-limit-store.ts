// A store for @fastify/rate-limit that keeps its counters in Postgres, so every API replica counts against one budget.
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Knex } from 'knex';
import { createRateLimitRepository } from '../db/repositories/rate-limits.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** A store class bound to `db`, as the plugin's `store` option wants a constructor. */
export function postgresRateLimitStore(db: Knex): new () => FastifyRateLimitStore {
  const counters = createRateLimitRepository(db);
  return class PostgresRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      counters
        .hit(key, timeWindow)
        .then(({ hits, ttlMs }) => callback(null, { current: hits, ttl: ttlMs }))
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
  return createRateLimitRepository(db).sweep();
}
