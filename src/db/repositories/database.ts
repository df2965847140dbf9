// The database itself, as readiness and the read pool see it: a ping, and how far a replica lags the primary.
import type { Knex } from 'knex';

/** Resolves once Postgres answers a trivial query. */
export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('SELECT 1');
}

/** Stamps the heartbeat row on the primary; a replica's copy of it shows how far behind it is. */
export async function writeReplicationHeartbeat(db: Knex): Promise<void> {
  await db('replication_heartbeat').insert({ id: 1, beat_at: db.fn.now() }).onConflict('id').merge();
}

/**
 * How many seconds behind the primary this server's data is. By the heartbeat the primary stamps, when there is one:
 * that counts while nothing else is written too. Without it, a hot standby's last replayed commit, unless it has
 * replayed all it received; a server that is no standby is not behind at all.
 */
export async function replicationLagSeconds(db: Knex, timeoutMs: number): Promise<number> {
  return db.transaction(async (trx) => {
    await trx.raw(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
    const { rows } = await trx.raw<{ rows: { lag: number | string }[] }>(`
      SELECT CASE
        WHEN h.beat_at IS NOT NULL THEN greatest(0, extract(epoch FROM clock_timestamp() - h.beat_at))
        WHEN pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()
          THEN coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
        ELSE 0
      END AS lag
      FROM (SELECT 1) AS one LEFT JOIN replication_heartbeat h ON h.id = 1`);
    return Number(rows[0]!.lag);
  });
}
