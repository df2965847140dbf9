// Each table has exactly one repository that writes it: read from the repositories' own statements.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../src/db/repositories/', import.meta.url));

/** A statement-text file belongs to the repository that runs its statements. */
const repositoryOf = (file: string) =>
  file.replace(/\.ts$/, '').replace(/^stock-(statements|views|receiving|discarding)$/, 'stock-lots');

/** The tables a file's statements insert into, update or delete from: SQL texts and knex builders alike. */
function tablesWritten(source: string): Set<string> {
  const tables = new Set<string>();
  for (const m of source.matchAll(/\b(?:INSERT INTO|DELETE FROM)\s+(\w+)|(?<!\b(?:DO|FOR|KEY)\s)\bUPDATE\s+(\w+)/g))
    tables.add((m[1] ?? m[2])!);
  // db('table')...insert(...) up to the next builder or the end of the statement.
  for (const m of source.matchAll(
    /\b(?:db|trx)(?:<\w+>)?\('(\w+)'\)((?:(?!\b(?:db|trx)(?:<\w+>)?\(')[^;])*?)\.(?:insert|update|delete|del|merge)\(/g,
  ))
    tables.add(m[1]!);
  return tables;
}

it('gives every table written by the product exactly one writing repository', () => {
  const writers = new Map<string, Set<string>>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const table of tablesWritten(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      const set = writers.get(table) ?? new Set<string>();
      set.add(repositoryOf(file));
      writers.set(table, set);
    }
  }
  const owner = Object.fromEntries(
    [...writers].sort(([a], [b]) => a.localeCompare(b)).map(([table, repos]) => [table, [...repos].sort().join(', ')]),
  );
  expect(owner).toEqual({
    accounts: 'bank-ledger',
    categories: 'categories',
    charges: 'bank-ledger',
    deliveries: 'deliveries',
    event_partition_drops: 'event-partitions',
    events: 'events',
    idempotency_keys: 'orders',
    kitchen_messages: 'kitchen',
    kitchen_secrets: 'kitchen',
    credentials: 'credentials',
    location_staff: 'staff',
    locations: 'locations',
    lot_idempotency_keys: 'stock-lots',
    order_lines: 'orders',
    orders: 'orders',
    products: 'catalog',
    rate_limit_counters: 'rate-limits',
    replication_heartbeat: 'database',
    slot_holds: 'slots',
    slot_templates: 'slots',
    slots: 'slots',
    staff_invitations: 'staff',
    stock_allocations: 'stock-lots',
    stock_lots: 'stock-lots',
    stock_reservations: 'stock-lots',
    users: 'users',
    webhook_attempts: 'webhook-deliveries',
    webhook_deliveries: 'webhook-deliveries',
    webhook_endpoints: 'webhook-endpoints',
    webhook_events: 'webhook-events',
    webhook_outbox: 'bank-ledger',
  });
});

it('sees a write in a second repository', () => {
  expect(tablesWritten("await trx('orders').where({ id }).update({ status });")).toEqual(new Set(['orders']));
  expect(tablesWritten('UPDATE stock_lots s SET available = 0 ... FOR NO KEY UPDATE OF s')).toEqual(
    new Set(['stock_lots']),
  );
  expect(tablesWritten("await db('orders').where({ id }).first('id');")).toEqual(new Set());
});
