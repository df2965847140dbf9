// The event log: the one writer of `events`, and the reads that replay it to live views and to the LISTEN fan-out.
import { SpanKind } from '@opentelemetry/api';
import type { Knex } from 'knex';
import pg from 'pg';
import type { EventType } from '../../domain/vocabulary.js';
import { payloadOrderingKey, webhookTypeOf } from '../../domain/webhooks.js';
import { EVENTS_CHANNEL, streams, type EventRecord } from '../../events/log.js';
import { currentTraceparent, inChildSpan } from '../../telemetry/context.js';
import { atomic } from '../knex.js';
import {
  QUEUE_WEBHOOK_DELIVERIES,
  queueWebhookDeliveriesBindings,
  WEBHOOK_DELIVERIES_CHANNEL,
} from './webhook-deliveries.js';

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

/**
 * The largest payload (as JSON text) a NOTIFY carries whole, so listeners deliver the event without reading it back.
 * A notification holds at most 8,000 bytes; a bigger event announces only its id, stream and type, and is read.
 */
export const NOTIFIED_PAYLOAD_MAX_BYTES = 6_000;

/** The event a notification carries whole (id, stream, type, payload, createdAt), or undefined when it names it only. */
export function eventFromNotification(head: {
  id: number;
  stream: string;
  type?: unknown;
  payload?: unknown;
  createdAt?: unknown;
}): EventRecord | undefined {
  const { payload, createdAt, type } = head;
  if (typeof type !== 'string' || typeof createdAt !== 'string') return undefined;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const created = new Date(createdAt);
  if (Number.isNaN(created.getTime())) return undefined;
  return toRecord({
    id: head.id,
    stream: head.stream,
    type,
    payload: payload as Record<string, unknown>,
    created_at: created,
  });
}

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
  return (await appendEvents(trx, [stream], type, payload, opts))[0]!;
}

/**
 * Appends the same change to several streams (an order's and its location's, say) as appendEvent does for one, in one
 * statement: the rows in the order given, their NOTIFYs, and the webhook deliveries of the location's one. Returns
 * the ids in the order of `streamNames`.
 */
export async function appendEvents(
  trx: Knex | Knex.Transaction,
  streamNames: readonly string[],
  type: EventType,
  payload: Record<string, unknown>,
  opts: { webhookLocationId?: string } = {},
): Promise<number[]> {
  // The event the location's webhooks hear: the one on its own stream, else (webhookLocationId) the first.
  const locationStream = streamNames.find((s) => s.startsWith(LOCATION_PREFIX));
  const locationId = locationStream?.slice(LOCATION_PREFIX.length) ?? opts.webhookLocationId;
  const rows = await changeAndTell(trx, {
    told: {
      sql: `SELECT s.stream, s.n, ?::jsonb AS payload, CASE WHEN s.stream = ? THEN ?::uuid END AS webhook_location
            FROM unnest(?::text[]) WITH ORDINALITY AS s(stream, n)`,
      bindings: [JSON.stringify(payload), locationStream ?? streamNames[0]!, locationId ?? null, [...streamNames]],
    },
    type,
    payload,
    streamsForSpan: streamNames,
  });
  const ids = new Map(rows.map((r) => [r.stream, r.id]));
  return streamNames.map((s) => ids.get(s)!);
}

/**
 * A change and the events that tell it, in one statement (no transaction around it, no round trip between them):
 * `change` is the statement's first CTEs (an UPDATE … RETURNING, say), and `told` a SELECT over them of the events to
 * append, (stream, n, payload, webhook_location): one row per stream, in n order, with the location on the row whose
 * webhooks are queued. No rows (the change changed nothing) appends nothing. `payload` is what the rows carry besides
 * what `told` adds from the change, for the webhook's type and ordering key. Returns the rows appended, in id order.
 */
export async function changeAndTell(
  trx: Knex | Knex.Transaction,
  opts: {
    change?: { sql: string; bindings: readonly unknown[] };
    told: { sql: string; bindings: readonly unknown[] };
    type: EventType;
    payload: Record<string, unknown>;
    /** The streams its span names. */
    streamsForSpan: readonly string[];
  },
): Promise<{ id: number; stream: string }[]> {
  const { type, payload } = opts;
  const webhookType = webhookTypeOf(type, payload);
  return inChildSpan(
    `notify ${type}`,
    { kind: SpanKind.PRODUCER, attributes: { 'event.type': type, 'event.stream': opts.streamsForSpan.join(' ') } },
    async () => {
      const traceparent = currentTraceparent();
      // The change, the rows, their NOTIFYs and the webhook deliveries (each endpoint named on its channel) in one
      // round trip.
      const { rows } = await trx.raw<{ rows: { id: string | number; stream: string }[] }>(
        `WITH ${opts.change ? `${opts.change.sql}, ` : ''}told AS (${opts.told.sql}), inserted AS (
           INSERT INTO events (stream, type, payload)
           SELECT t.stream, ?, t.payload || ?::jsonb FROM told t ORDER BY t.n
           RETURNING id, created_at, stream, type, payload
         ), queued AS (${QUEUE_WEBHOOK_DELIVERIES})
         SELECT i.id, i.stream,
                pg_notify(?, (CASE WHEN octet_length(i.payload::text) <= ${NOTIFIED_PAYLOAD_MAX_BYTES}
                  THEN json_build_object('id', i.id, 'stream', i.stream, 'type', i.type, 'payload', i.payload,
                                         'createdAt', i.created_at)
                  ELSE json_build_object('id', i.id, 'stream', i.stream, 'type', i.type) END)::text) AS notified,
                (SELECT count(pg_notify(?, q.endpoint_id::text)) FROM queued q) AS endpoints
         FROM inserted i ORDER BY i.id`,
        [
          ...(opts.change?.bindings ?? []),
          ...opts.told.bindings,
          type,
          JSON.stringify(traceparent ? { [TRACEPARENT_KEY]: traceparent } : {}),
          ...queueWebhookDeliveriesBindings(webhookType, payloadOrderingKey(payload), TRACEPARENT_KEY),
          EVENTS_CHANNEL,
          WEBHOOK_DELIVERIES_CHANNEL,
        ] as Knex.RawBinding[],
      );
      return rows.map((r) => ({ id: Number(r.id), stream: r.stream }));
    },
  );
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
