// Outgoing webhook attempts as the worker's Prometheus metrics: how each ended and how long the receiver took.
import { Counter, Histogram, register } from 'prom-client';

// Module-level, so the worker process has one of each, however many activity sets it builds.
const attempts = new Counter({
  name: 'webhook_delivery_attempts_total',
  help: 'Outgoing webhook attempts by how they ended: delivered (2xx), retrying (another attempt is scheduled), failed (given up on)',
  labelNames: ['outcome'] as const,
  registers: [register],
});

const duration = new Histogram({
  name: 'webhook_delivery_duration_seconds',
  help: 'Time from sending an outgoing webhook to its answer (or to the timeout or network error), by outcome',
  labelNames: ['outcome'] as const,
  // The sender gives up after 10 s, so the top buckets show receivers about to time out.
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

export function recordWebhookAttempt(outcome: WebhookOutcome, latencyMs: number): void {
  attempts.inc({ outcome });
  duration.observe({ outcome }, latencyMs / 1000);
}
