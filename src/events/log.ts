// The durable event log: every change a live view shows is appended here, in the same transaction, then announced with NOTIFY.
import type { Knex } from 'knex';

export const EVENTS_CHANNEL = 'events';

export interface EventRecord {
  id: number;
  stream: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

export const streams = {
  order: (orderId: string) => `order:${orderId}`,
  location: (locationId: string) => `location:${locationId}`,
};

/** Appends one event; NOTIFY is delivered only when the surrounding transaction commits. */
export async function appendEvent(
  trx: Knex | Knex.Transaction,
  stream: string,
  type: string,
  payload: Record<string, unknown>,
): Promise<number> {
  const [row] = await trx('events').insert({ stream, type, payload }).returning<{ id: number }[]>('id');
  const id = row!.id;
  await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, JSON.stringify({ id, stream, type })]);
  return id;
}

export async function readStream(db: Knex, stream: string, afterId = 0, limit = 500): Promise<EventRecord[]> {
  const rows = await db('events')
    .where('stream', stream)
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .select<{ id: number; stream: string; type: string; payload: Record<string, unknown>; created_at: Date }[]>('id', 'stream', 'type', 'payload', 'created_at');
  return rows.map((r) => ({ id: r.id, stream: r.stream, type: r.type, payload: r.payload, createdAt: r.created_at.toISOString() }));
}
