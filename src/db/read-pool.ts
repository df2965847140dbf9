// The read replica behind DATABASE_READ_URL, for reads that decide nothing. It serves them while it answers and lags
// at most DATABASE_READ_MAX_LAG_MS; otherwise they go to the primary until a check finds it well again. A read that
// fails on the replica is answered by the primary at once, so a replica going away costs no request an error.
import type { Knex } from 'knex';
import { createDb } from './knex.js';
import { replicationLagSeconds, writeReplicationHeartbeat } from './repositories/database.js';

export interface ReadPoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReadPoolState {
  /** Whether a replica is configured at all. */
  configured: boolean;
  /** Reads go to the replica now. */
  onReplica: boolean;
  /** The lag the last check measured; null before the first answer or while the replica does not answer. */
  lagSeconds: number | null;
  /** Reads the replica failed that the primary answered instead. */
  fallbacks: number;
}

export interface ReadPool {
  /** Runs a read on the replica when it is well, on the primary otherwise or when the replica fails it. */
  read<T>(query: (db: Knex) => Promise<T>): Promise<T>;
  /** Checks the replica now: stamps the heartbeat on the primary, measures the lag, and picks where reads go. */
  check(): Promise<void>;
  state(): ReadPoolState;
  close(): Promise<void>;
}

export interface ReadPoolOptions {
  primary: Knex;
  /** Unset: every read goes to the primary. */
  replicaUrl: string | undefined;
  maxLagMs: number;
  /** How often the replica is checked. */
  checkEveryMs?: number;
  log?: ReadPoolLogger;
}

/** A replica that gives no connection or no answer within this is taken for down. */
const CHECK_TIMEOUT_MS = 2_000;

const silent: ReadPoolLogger = { info: () => undefined, warn: () => undefined };

export function createReadPool(options: ReadPoolOptions): ReadPool {
  const { primary, maxLagMs } = options;
  const log = options.log ?? silent;
  if (!options.replicaUrl) {
    return {
      read: (query) => query(primary),
      check: async () => undefined,
      state: () => ({ configured: false, onReplica: false, lagSeconds: null, fallbacks: 0 }),
      close: async () => undefined,
    };
  }
  const checkEveryMs = options.checkEveryMs ?? 1_000;
  // Failed connections are the checks' to report, once per change, not knex's on every attempt.
  const quiet = () => undefined;
  const replica = createDb(options.replicaUrl, {
    max: 10,
    acquireTimeoutMs: CHECK_TIMEOUT_MS,
    log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
  });
  let onReplica = false;
  let lagSeconds: number | null = null;
  let fallbacks = 0;
  let closed = false;
  let checking: Promise<void> | undefined;

  function switchTo(replicaNow: boolean, why: object): void {
    if (replicaNow === onReplica) return;
    onReplica = replicaNow;
    if (replicaNow) log.info(why, 'reads are back on the read replica');
    else log.warn(why, 'reads fall back to the primary');
  }

  async function runCheck(): Promise<void> {
    // A primary that cannot take the stamp is no reason to stop reading the replica; its lag shows it soon enough.
    await writeReplicationHeartbeat(primary).catch(() => undefined);
    try {
      const lag = await replicationLagSeconds(replica, CHECK_TIMEOUT_MS);
      lagSeconds = lag;
      switchTo(lag * 1_000 <= maxLagMs, { lagSeconds: lag, maxLagMs });
    } catch (err) {
      lagSeconds = null;
      switchTo(false, { err, reason: 'the read replica does not answer' });
    }
  }

  const check = () => (checking ??= runCheck().finally(() => (checking = undefined)));
  const timer = setInterval(() => {
    if (!closed) void check();
  }, checkEveryMs);
  timer.unref();
  void check();

  return {
    async read(query) {
      if (!onReplica) return query(primary);
      try {
        return await query(replica);
      } catch (err) {
        // Whatever broke, the primary can answer; the next check decides whether the replica comes back.
        fallbacks += 1;
        lagSeconds = null;
        switchTo(false, { err, reason: 'a read failed on the read replica' });
        return query(primary);
      }
    },
    check,
    state: () => ({ configured: true, onReplica, lagSeconds, fallbacks }),
    async close() {
      closed = true;
      clearInterval(timer);
      await checking;
      await replica.destroy();
    },
  };
}
