// Hot read statements sent straight to node-postgres as named prepared statements, each :name bound once. knex binds
// every occurrence of a name as a parameter of its own (a statement merging sixteen scans has seventy), and formats
// the text on every call; this converts a statement once and sends only its values.
import type { Knex } from 'knex';
import type pg from 'pg';

interface Converted {
  sql: string;
  text: string;
  /** The binding behind $1, $2, …: each name at its first appearance. */
  names: string[];
}

const converted = new Map<string, Converted>();

// A :name not part of a :: cast, an array slice (`[1:n]`) or a word.
const PARAMETER = /(?<![:\w]):([A-Za-z_]\w*)/g;

/** `sql` with its `:name`s as `$1`, `$2`, …, one per name, and the names in that order. */
export function positionalSql(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(PARAMETER, (_, binding: string) => {
    const at = names.indexOf(binding);
    return `$${(at < 0 ? names.push(binding) : at + 1).toString()}`;
  });
  return { text, names };
}

function convert(name: string, sql: string): Converted {
  let statement = converted.get(name);
  if (statement === undefined || statement.sql !== sql) {
    statement = { ...positionalSql(sql), sql };
    converted.set(name, statement);
  }
  return statement;
}

/**
 * Runs `sql`, whose parameters are `:name`s, as the prepared statement `name` on a connection of `db`'s pool, and
 * returns its rows. Every name must have a value, and a statement's name must always stand for the same text.
 */
export async function queryPrepared<R>(
  db: Knex,
  name: string,
  sql: string,
  bindings: Record<string, unknown>,
): Promise<R[]> {
  if (db.isTransaction) throw new Error('queryPrepared runs on a pool, not in a transaction');
  const { text, names } = convert(name, sql);
  const values = names.map((binding) => {
    const value = bindings[binding];
    if (value === undefined) throw new Error(`The statement ${name} has no value for :${binding}`);
    return value;
  });
  // As knex does for its own queries, so that its 'query' listeners see these too.
  db.client.emit('query', { sql: text, bindings: values, options: { name } });
  const connection = (await db.client.acquireConnection()) as pg.ClientBase;
  try {
    const result = await connection.query<R & pg.QueryResultRow>({ name, text, values });
    return result.rows;
  } finally {
    await db.client.releaseConnection(connection);
  }
}
