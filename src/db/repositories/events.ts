// The event log: the one writer of `events`, and the reads that replay it to live views and to the LISTEN fan-out.
import { SpanKind } from '@opentelemetry/api';
import type { Knex } from 'knex';
import pg from 'pg';
import type { EventType } from '../../domain/vocabulary.js';
import { orderingKeyOf, webhookTypeOf } from '../../domain/webhooks.js';
import { EVENTS_CHANNEL, streams, type EventRecord } from '../../events/log.js';
import { currentTraceparent, inChildSpan } from '../../telemetry/context.js';
import { atomic } from '../knex.js';
import { enqueueWebhookDeliveries } from './webhook-deliveries.js';

const LOCATION_PREFIX = streams.location('');

interface EventRow {
  id: number;
  stream: string;
  type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/**
 * Where a stored event keeps the trace it was appended in, while tracing is on: its live deliveries and webhooks
 * continue that trace. Readers never see it in the payload.
 */
const TRACEPARENT_KEY = '_traceparent';

function toRecord(r: EventRow): EventRecord {
  const record: EventRecord = {
    id: r.id,
    stream: r.stream,
    type: r.type,
    payload: r.payload,
    createdAt: r.created_at.toISOString(),
  };
  if (TRACEPARENT_KEY in r.payload) {
    const { [TRACEPARENT_KEY]: traceparent, ...payload } = r.payload;
    record.payload = payload;
    if (typeof traceparent === 'string') record.traceparent = traceparent;
  }
  return record;
}

/**
 * Appends one event; NOTIFY is delivered only when the surrounding transaction commits. An event of a location's
 * stream (or of another stream, when `webhookLocationId` names its location) also queues its webhook deliveries in the
 * same transaction: the location's stream is where each change is announced once, so each endpoint gets it once.
 */
export async function appendEvent(
  trx: Knex | Knex.Transaction,
  stream: string,
  type: EventType,
  payload: Record<string, unknown>,
  opts: { webhookLocationId?: string } = {},
): Promise<number> {
  const [row] = await inChildSpan(
    `notify ${type}`,
    { kind: SpanKind.PRODUCER, attributes: { 'event.type': type, 'event.stream': stream } },
    async () => {
      const traceparent = currentTraceparent();
      const stored = traceparent ? { ...payload, [TRACEPARENT_KEY]: traceparent } : payload;
      // The row and its NOTIFY in one statement: one round trip per event.
      const { rows } = await trx.raw<{ rows: { id: number; created_at: Date }[] }>(
        `WITH inserted AS (
           INSERT INTO events (stream, type, payload) VALUES (?, ?, ?::jsonb) RETURNING id, created_at, stream, type
         )
         SELECT id, created_at, pg_notify(?, json_build_object('id', id, 'stream', stream, 'type', type)::text)
           FROM inserted`,
        [stream, type, JSON.stringify(stored), EVENTS_CHANNEL],
      );
      return rows;
    },
  );
  const id = row!.id;
  const locationId =
    opts.webhookLocationId ?? (stream.startsWith(LOCATION_PREFIX) ? stream.slice(LOCATION_PREFIX.length) : undefined);
  const webhookType = locationId ? webhookTypeOf(type, payload) : null;
  if (locationId && webhookType) {
    await enqueueWebhookDeliveries(trx, {
      locationId,
      eventId: Number(id),
      type: webhookType,
      orderingKey: orderingKeyOf(payload, id),
      data: payload,
      occurredAt: row!.created_at,
    });
  }
  return id;
}

/** The event log as routes reach it, for changes kept outside Postgres (a Temporal Schedule) that live views follow. */
export function createEventRepository(db: Knex) {
  return {
    /** Appends one event in a transaction of its own, after the change it tells of is made. */
    async append(stream: string, type: EventType, payload: Record<string, unknown>): Promise<number> {
      return atomic(db, (trx) => appendEvent(trx, stream, type, payload));
    },

    /** The traces these events were appended in, for those that keep one. */
    async traceparents(ids: readonly number[]): Promise<Map<number, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db('events')
        .whereIn('id', ids)
        .whereRaw('payload \\? ?', [TRACEPARENT_KEY])
        .select<{ id: number; traceparent: string }[]>('id', db.raw('payload->>? as traceparent', [TRACEPARENT_KEY]));
      return new Map(rows.map((r) => [Number(r.id), r.traceparent]));
    },
  };
}

export async function readStream(db: Knex, stream: string, afterId = 0, limit = 500): Promise<EventRecord[]> {
  const rows = await db('events')
    .where('stream', stream)
    .andWhere('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .select<EventRow[]>('id', 'stream', 'type', 'payload', 'created_at');
  return rows.map(toRecord);
}

/** Events of several streams in (afterId, upToId], in id order: what a resumed live view missed. */
export async function readStreams(
  db: Knex,
  query: { streams: readonly string[]; afterId: number; upToId: number; types?: readonly string[]; limit: number },
): Promise<EventRecord[]> {
  if (query.streams.length === 0 || query.upToId <= query.afterId) return [];
  const builder = db('events')
    .whereIn('stream', query.streams)
    .andWhere('id', '>', query.afterId)
    .andWhere('id', '<=', query.upToId)
    .orderBy('id')
    .limit(query.limit);
  if (query.types) builder.whereIn('type', query.types);
  const rows = await builder.select<EventRow[]>('id', 'stream', 'type', 'payload', 'created_at');
  return rows.map(toRecord);
}

/** The events with these ids, in id order. */
export async function readEventsByIds(db: Knex, ids: readonly number[]): Promise<EventRecord[]> {
  if (ids.length === 0) return [];
  const rows = await db('events')
    .whereIn('id', ids)
    .orderBy('id')
    .select<EventRow[]>('id', 'stream', 'type', 'payload', 'created_at');
  return rows.map(toRecord);
}

/** Ids and streams of committed events in (afterId, upToId], for a listener catching up on what it did not hear. */
export async function readEventHeads(
  db: Knex,
  afterId: number,
  upToId: number,
  limit: number,
): Promise<{ id: number; stream: string }[]> {
  return db('events')
    .where('id', '>', afterId)
    .andWhere('id', '<=', upToId)
    .orderBy('id')
    .limit(limit)
    .select<{ id: number; stream: string }[]>('id', 'stream');
}

export async function latestEventId(db: Knex): Promise<number> {
  const row = await db('events').max<{ max: number | null }>('id as max').first();
  return Number(row?.max ?? 0);
}

/** A connection of its own, never from a pool, for LISTEN: it stays open as long as the fan-out wants events. */
export function createEventsListener(databaseUrl: string | undefined, applicationName: string): pg.Client {
  return new pg.Client({ connectionString: databaseUrl, application_name: applicationName, keepAlive: true });
}

/** Starts hearing the events channel on a listener connection. */
export async function listenForEvents(listener: pg.Client): Promise<void> {
  await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
}
