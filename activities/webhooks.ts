// Sending an endpoint's due webhook deliveries: one activity drains what is due in rounds, so a burst of events costs
// the endpoint's workflow one activity, not one per event.
import { SpanKind } from '@opentelemetry/api';
import { heartbeat } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { WebhookSettings } from '../src/config.js';
import { createRepositories } from '../src/db/repositories/index.js';
import { webhookMessageId, type AttemptOutcome, type DueDelivery } from '../src/db/repositories/webhook-deliveries.js';
import { orderNumber } from '../src/domain/vocabulary.js';
import { nextAttemptAt } from '../src/domain/webhooks.js';
import { recordWebhookAttempt } from '../src/metrics/webhooks.js';
import { inContinuedSpan } from '../src/telemetry/context.js';
import { activeTracing } from '../src/telemetry/tracing.js';
import { sendWebhook } from '../src/webhooks/send.js';

/** Deliveries sent at once, each the oldest waiting of its order (or other ordering key). */
const ROUND_SIZE = 50;
/** One activity stops after this long and lets its workflow loop, so no single activity runs for ever. */
const ACTIVITY_BUDGET_MS = 60_000;

export interface DeliverWebhooksResult {
  /** active: keep looping; disabled or gone: the endpoint's workflow ends (enabling it again starts a new one). */
  state: 'active' | 'disabled' | 'gone';
  /** When the next waiting delivery is due (ms), or null when nothing waits. */
  nextDueAt: number | null;
  delivered: number;
  failed: number;
}

/**
 * The body a receiver gets: the event as the live streams carry it (an order's with its short number), with its id,
 * type and when it happened.
 */
export function webhookBody(delivery: Pick<DueDelivery, 'id' | 'eventId' | 'type' | 'data' | 'occurredAt'>): string {
  const { orderId } = delivery.data;
  return JSON.stringify({
    id: webhookMessageId(delivery),
    type: delivery.type,
    occurredAt: delivery.occurredAt,
    data: typeof orderId === 'string' ? { ...delivery.data, number: orderNumber(orderId) } : delivery.data,
  });
}

const duration = (ms: number) =>
  ms >= 2 * 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 1000)} s`;

export function createWebhookActivities(db: Knex, settings: WebhookSettings) {
  const repos = createRepositories(db);
  return {
    /**
     * Sends the endpoint's due deliveries, round after round, until none is due or the budget is spent. `now` is the
     * workflow's clock: the activity never reads an earlier time than it, so the schedule holds on a test server
     * that skips time too.
     */
    async deliverWebhooks(input: { endpointId: string; now: number }): Promise<DeliverWebhooksResult> {
      const skew = Math.max(0, input.now - Date.now());
      const clock = () => Date.now() + skew;
      const started = Date.now();
      let delivered = 0;
      let failed = 0;
      for (;;) {
        const target = await repos.webhookEndpoints.target(input.endpointId, clock());
        if (!target) return { state: 'gone', nextDueAt: null, delivered, failed };
        if (!target.enabled) return { state: 'disabled', nextDueAt: null, delivered, failed };
        const due = await repos.webhookDeliveries.due(input.endpointId, clock(), ROUND_SIZE);
        if (due.length === 0) break;
        // Each delivery continues the trace of the change it announces (and links to this activity's).
        const traces = activeTracing()
          ? await repos.events.traceparents(due.flatMap((d) => (d.eventId === null ? [] : [d.eventId])))
          : undefined;
        const outcomes = await Promise.all(
          due.map(async (delivery): Promise<AttemptOutcome> => {
            const attemptedAt = clock();
            const sent = await inContinuedSpan(
              `webhook ${delivery.type}`,
              delivery.eventId === null ? undefined : traces?.get(delivery.eventId),
              {
                kind: SpanKind.PRODUCER,
                attributes: {
                  'event.type': delivery.type,
                  'webhook.delivery_id': delivery.id,
                  'webhook.attempt': delivery.failures + 1,
                },
              },
              () =>
                sendWebhook(
                  target,
                  { id: webhookMessageId(delivery), timestamp: new Date(attemptedAt), body: webhookBody(delivery) },
                  settings,
                ),
            );
            const ok = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300;
            const failures = delivery.failures + 1;
            const next = ok
              ? null
              : nextAttemptAt(failures, delivery.failingSince ?? attemptedAt, clock(), settings.retry);
            recordWebhookAttempt(ok ? 'delivered' : next === null ? 'failed' : 'retrying', sent.latencyMs);
            return {
              deliveryId: delivery.id,
              attemptedAt,
              ...sent,
              result: ok
                ? { status: 'delivered' }
                : next === null
                  ? { status: 'failed' }
                  : { status: 'pending', nextAttemptAt: next },
            };
          }),
        );
        await repos.webhookDeliveries.recordAttempts(outcomes);
        delivered += outcomes.filter((o) => o.result.status === 'delivered').length;
        failed += outcomes.filter((o) => o.result.status !== 'delivered').length;
        // 410 Gone is the receiver saying it wants no more; giving up on a delivery means it stopped answering.
        const gone = outcomes.find((o) => o.statusCode === 410);
        const givenUp = outcomes.find((o) => o.result.status === 'failed');
        if (gone || givenUp) {
          await repos.webhookEndpoints.disable(
            input.endpointId,
            gone ? 'gone' : 'failing',
            gone
              ? 'The receiver answered 410 Gone'
              : `Deliveries kept failing for ${duration(settings.retry.giveUpAfterMs)} (last: ${givenUp!.error})`,
          );
          return { state: 'disabled', nextDueAt: null, delivered, failed };
        }
        heartbeat({ delivered, failed });
        if (Date.now() - started > ACTIVITY_BUDGET_MS) break;
      }
      return {
        state: 'active',
        nextDueAt: await repos.webhookDeliveries.nextDueAt(input.endpointId),
        delivered,
        failed,
      };
    },
  };
}
