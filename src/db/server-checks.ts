// Questions the cluster launcher asks a Postgres server directly: is it up, is it a streaming replica, has a
// database got a table or any rows in it yet.
import pg from 'pg';

async function withClient<T>(url: string, ask: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return await ask(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves once `url` answers a query; rejects with the connection's error otherwise. */
export async function answersQueries(url: string): Promise<void> {
  await withClient(url, (client) => client.query('select 1'));
}

/** True when the server at `url` is in recovery and receiving WAL from a primary. */
export async function isStreamingReplica(url: string): Promise<boolean> {
  return withClient(url, async (client) => {
    const recovery = await client.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    const receiver = await client.query<{ status: string }>('select status from pg_stat_wal_receiver');
    return recovery.rows[0]?.r === true && receiver.rows[0]?.status === 'streaming';
  });
}

export async function tableExists(url: string, table: string): Promise<boolean> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ t: string | null }>('select to_regclass($1) as t', [table]);
    return rows[0]?.t != null;
  });
}

export async function tableHasRows(url: string, table: string): Promise<boolean> {
  return withClient(url, async (client) => {
    const { rowCount } = await client.query(`select 1 from ${pg.escapeIdentifier(table)} limit 1`);
    return (rowCount ?? 0) > 0;
  });
}
