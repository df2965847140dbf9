// Webhook deliveries and their attempts: the one writer of webhook_deliveries and webhook_attempts. A delivery is
// written in the same transaction as its event (the outbox), so an event that committed always has its deliveries.
import type { Knex } from 'knex';
import type pg from 'pg';
import type { WebhookDeliveryStatus, WebhookEventType } from '../../domain/vocabulary.js';
import { atomic } from '../knex.js';

/** The NOTIFY channel that names an endpoint with new deliveries, once its transaction commits. */
export const WEBHOOK_DELIVERIES_CHANNEL = 'webhook_deliveries';

export interface DueDelivery {
  id: number;
  eventId: number | null;
  type: WebhookEventType;
  data: Record<string, unknown>;
  occurredAt: string;
  failures: number;
  failingSince: number | null;
}

/** What one attempt came to, and what happens to its delivery next. */
export interface AttemptOutcome {
  deliveryId: number;
  attemptedAt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** delivered, another attempt at `nextAttemptAt`, or given up (failed). */
  result: { status: 'delivered' } | { status: 'pending'; nextAttemptAt: number } | { status: 'failed' };
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string | null;
  type: WebhookEventType;
  status: WebhookDeliveryStatus;
  occurredAt: string;
  createdAt: string;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  attempts: { at: string; statusCode: number | null; latencyMs: number; error: string | null }[];
}

interface DeliveryRow {
  id: string | number;
  event_id: string | number | null;
  type: string;
  status: WebhookDeliveryStatus;
  data: Record<string, unknown>;
  occurred_at: Date;
  created_at: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
  failures: number;
  failing_since: Date | null;
}

/** The message id a receiver dedupes by: the same for every attempt and replay of one delivery's event. */
export const webhookMessageId = (d: { id: number | string; eventId: number | string | null }) =>
  d.eventId === null ? `msg_test_${d.id}` : `msg_${d.eventId}`;

/**
 * The part of an event's append (events.ts's changeAndTell) that queues its webhooks: one delivery per enabled
 * endpoint of the location that subscribes to the type, for the row of the statement's `inserted` CTE that its `told`
 * CTE gives a webhook_location, carrying the event's payload without its trace. A CTE that returns each endpoint's id,
 * for a NOTIFY on WEBHOOK_DELIVERIES_CHANNEL. Without an ordering key from the payload (payloadOrderingKey), the key is
 * the event's own, `event:<its id>`, as orderingKeyOf makes it. Its bindings are queueWebhookDeliveriesBindings'; with
 * no type it queues nothing.
 */
export const QUEUE_WEBHOOK_DELIVERIES = `
  INSERT INTO webhook_deliveries (endpoint_id, event_id, type, ordering_key, data, occurred_at)
  SELECT w.id, i.id, ?, coalesce(?::text, 'event:' || i.id), i.payload - ?::text, i.created_at
  FROM inserted i JOIN told t ON t.stream = i.stream
  JOIN webhook_endpoints w ON w.location_id = t.webhook_location AND w.enabled AND ?::text = ANY(w.events)
  RETURNING endpoint_id`;

export function queueWebhookDeliveriesBindings(
  type: WebhookEventType | null,
  orderingKey: string | null,
  /** The payload's key for the trace the event was appended in, which no receiver sees. */
  traceKey: string,
): (string | null)[] {
  return [type, orderingKey, traceKey, type];
}

/** Names an endpoint on the channel, heard once the transaction commits. */
async function notifyEndpoint(trx: Knex | Knex.Transaction, endpointId: string): Promise<void> {
  await trx.raw('SELECT pg_notify(?, ?)', [WEBHOOK_DELIVERIES_CHANNEL, endpointId]);
}

/** Starts hearing which endpoints have new deliveries, on a LISTEN connection of its own. */
export async function listenForWebhookDeliveries(listener: pg.Client): Promise<void> {
  await listener.query(`LISTEN ${WEBHOOK_DELIVERIES_CHANNEL}`);
}

const ms = (d: Date | null) => (d ? d.getTime() : null);

export function createWebhookDeliveryRepository(db: Knex) {
  /** The oldest waiting delivery of each ordering key of the endpoint: only these may go out now. */
  const heads = (endpointId: string) =>
    db.from(
      db('webhook_deliveries')
        .distinctOn('ordering_key')
        .where({ endpoint_id: endpointId, status: 'pending' })
        .orderBy([{ column: 'ordering_key' }, { column: 'id' }])
        .as('heads'),
    );

  return {
    /** A test event for one endpoint, due now; its workflow is woken as for any new delivery. */
    async enqueueTest(endpointId: string, data: Record<string, unknown>): Promise<{ id: string }> {
      return atomic(db, async (trx) => {
        const [row] = await trx('webhook_deliveries')
          .insert({
            endpoint_id: endpointId,
            type: 'webhook.test',
            ordering_key: `test:${crypto.randomUUID()}`,
            data,
            occurred_at: new Date(),
          })
          .returning<{ id: string }[]>('id');
        await notifyEndpoint(trx, endpointId);
        return { id: String(row!.id) };
      });
    },

    /** Up to `limit` deliveries that may go out at `now`, oldest first; none waits behind an earlier one of its key. */
    async due(endpointId: string, now: number, limit: number): Promise<DueDelivery[]> {
      const rows = await heads(endpointId)
        .select('*')
        .where('next_attempt_at', '<=', new Date(now))
        .orderBy('id')
        .limit(limit)
        .then((r) => r as DeliveryRow[]);
      return rows.map((r) => ({
        id: Number(r.id),
        eventId: r.event_id === null ? null : Number(r.event_id),
        type: r.type as WebhookEventType,
        data: r.data,
        occurredAt: r.occurred_at.toISOString(),
        failures: r.failures,
        failingSince: ms(r.failing_since),
      }));
    },

    /** When the endpoint's next delivery may go out (ms), or null when nothing waits. */
    async nextDueAt(endpointId: string): Promise<number | null> {
      const row = await heads(endpointId).min<{ min: Date | null }>('next_attempt_at as min').first();
      return ms(row?.min ?? null);
    },

    /** Records each attempt and moves its delivery on, in one transaction. */
    async recordAttempts(outcomes: readonly AttemptOutcome[]): Promise<void> {
      if (outcomes.length === 0) return;
      await atomic(db, async (trx) => {
        await trx('webhook_attempts').insert(
          outcomes.map((o) => ({
            delivery_id: o.deliveryId,
            attempted_at: new Date(o.attemptedAt),
            status_code: o.statusCode,
            latency_ms: o.latencyMs,
            error: o.error,
          })),
        );
        for (const o of outcomes) {
          const common = { attempts: trx.raw('attempts + 1'), last_status_code: o.statusCode, last_error: o.error };
          const attemptedAt = new Date(o.attemptedAt);
          await trx('webhook_deliveries')
            .where({ id: o.deliveryId, status: 'pending' })
            .update(
              o.result.status === 'delivered'
                ? { ...common, status: 'delivered', delivered_at: attemptedAt, failures: 0, failing_since: null }
                : {
                    ...common,
                    status: o.result.status,
                    failures: trx.raw('failures + 1'),
                    failing_since: trx.raw('coalesce(failing_since, ?)', [attemptedAt]),
                    ...(o.result.status === 'pending' ? { next_attempt_at: new Date(o.result.nextAttemptAt) } : {}),
                  },
            );
        }
      });
    },

    /**
     * Sends one delivery again now, whatever became of it: a new retry window for a failed one, a replay (same
     * webhook-id) for a delivered one. False when the endpoint has no such delivery.
     */
    async retry(endpointId: string, deliveryId: string): Promise<boolean> {
      return atomic(db, async (trx) => {
        const changed = await trx('webhook_deliveries')
          .where({ id: deliveryId, endpoint_id: endpointId })
          .update({ status: 'pending', next_attempt_at: trx.fn.now(), failures: 0, failing_since: null });
        if (changed > 0) await notifyEndpoint(trx, endpointId);
        return changed > 0;
      });
    },

    /** Everything still waiting for an endpoint is due now with a fresh retry window: what enabling it again does. */
    async resumeWaiting(endpointId: string): Promise<void> {
      await atomic(db, async (trx) => {
        const changed = await trx('webhook_deliveries')
          .where({ endpoint_id: endpointId, status: 'pending' })
          .update({ next_attempt_at: trx.fn.now(), failures: 0, failing_since: null });
        if (changed > 0) await notifyEndpoint(trx, endpointId);
      });
    },

    /** Enabled endpoints with something waiting: what a starting waker wakes, in case a NOTIFY went unheard. */
    async endpointsWithWaiting(): Promise<string[]> {
      const rows = await db('webhook_endpoints as e')
        .where('e.enabled', true)
        .whereExists(
          db('webhook_deliveries as d').whereRaw('d.endpoint_id = e.id').andWhere('d.status', 'pending').select(1),
        )
        .select<{ id: string }[]>('e.id');
      return rows.map((r) => r.id);
    },

    /** The endpoint's deliveries, newest first, each with its attempts in order. */
    async list(
      endpointId: string,
      query: { status?: WebhookDeliveryStatus; beforeId?: number; limit: number },
    ): Promise<DeliveryView[]> {
      const builder = db('webhook_deliveries')
        .where({ endpoint_id: endpointId })
        .orderBy('id', 'desc')
        .limit(query.limit);
      if (query.status) builder.andWhere('status', query.status);
      if (query.beforeId !== undefined) builder.andWhere('id', '<', query.beforeId);
      const rows = (await builder.select('*')) as DeliveryRow[];
      const attempts = await db('webhook_attempts')
        .whereIn(
          'delivery_id',
          rows.map((r) => r.id),
        )
        .orderBy('id')
        .select<
          {
            delivery_id: string;
            attempted_at: Date;
            status_code: number | null;
            latency_ms: number;
            error: string | null;
          }[]
        >('delivery_id', 'attempted_at', 'status_code', 'latency_ms', 'error');
      const byDelivery = new Map<string, DeliveryView['attempts']>();
      for (const a of attempts) {
        const list = byDelivery.get(String(a.delivery_id)) ?? [];
        list.push({
          at: a.attempted_at.toISOString(),
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          error: a.error,
        });
        byDelivery.set(String(a.delivery_id), list);
      }
      return rows.map((r) => {
        const eventId = r.event_id === null ? null : String(r.event_id);
        return {
          id: String(r.id),
          webhookId: webhookMessageId({ id: r.id, eventId }),
          eventId,
          type: r.type as WebhookEventType,
          status: r.status,
          occurredAt: r.occurred_at.toISOString(),
          createdAt: r.created_at.toISOString(),
          nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
          deliveredAt: r.delivered_at?.toISOString() ?? null,
          attempts: byDelivery.get(String(r.id)) ?? [],
        };
      });
    },
  };
}

export type WebhookDeliveryRepository = ReturnType<typeof createWebhookDeliveryRepository>;
