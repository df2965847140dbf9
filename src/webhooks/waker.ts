// Waking endpoints' delivery workflows when deliveries are committed. The worker LISTENs on the channel the outbox
// NOTIFYs (src/db/repositories/webhook-deliveries.ts) and signals-with-start the named endpoint's workflow, at most
// once per endpoint per WEBHOOK_WAKE_INTERVAL_MS: the ones asked for meanwhile become one more after it, and the
// workflow's running round picks up what commits while it runs. On (re)connecting
// it wakes every endpoint with something waiting, since NOTIFYs sent while nobody listened are gone. A wake-up
// lost anyway only delays delivery until the workflow's own timer.
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Config } from '../config.js';
import { createEventsListener } from '../db/repositories/events.js';
import { createRepositories } from '../db/repositories/index.js';
import { WEBHOOK_DELIVERIES_CHANNEL, listenForWebhookDeliveries } from '../db/repositories/webhook-deliveries.js';
import { webhookWakeSignal, webhookWorkflowId } from '../../workflows/messages.js';
import type { webhookDeliveryWorkflow } from '../../workflows/webhook-delivery.js';

interface Log {
  warn(fields: { err: unknown; endpointId?: string }, message: string): void;
}

/** Signals the endpoint's delivery workflow to look now, starting it when it is not running. */
export async function wakeWebhookEndpoint(client: Client, config: Config, endpointId: string): Promise<void> {
  await client.workflow.signalWithStart<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
    workflowId: webhookWorkflowId(endpointId),
    taskQueue: config.temporal.taskQueue,
    args: [{ endpointId, idleRecheckMs: config.webhooks.idleRecheckMs }],
    signal: webhookWakeSignal,
    signalArgs: [],
  });
}

export interface WebhookWaker {
  /** Wakes one endpoint, coalescing with a wake-up already in flight. */
  wake(endpointId: string): void;
  stop(): Promise<void>;
}

export function startWebhookWaker(opts: { config: Config; db: Knex; client: Client; log: Log }): WebhookWaker {
  const { config, client, log } = opts;
  const repos = createRepositories(opts.db);
  const inFlight = new Set<string>();
  const again = new Set<string>();
  const lastSent = new Map<string, number>();
  const waiting = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  let listener: ReturnType<typeof createEventsListener> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;

  /** Sends at most one signal per endpoint per interval: a burst of deliveries costs the workflow one wake-up. */
  function wake(endpointId: string): void {
    if (stopped || waiting.has(endpointId)) return;
    if (inFlight.has(endpointId)) {
      again.add(endpointId);
      return;
    }
    const wait = (lastSent.get(endpointId) ?? 0) + config.webhooks.wakeIntervalMs - Date.now();
    if (wait <= 0) {
      send(endpointId);
      return;
    }
    waiting.set(
      endpointId,
      setTimeout(() => {
        waiting.delete(endpointId);
        wake(endpointId);
      }, wait),
    );
  }

  function send(endpointId: string): void {
    inFlight.add(endpointId);
    lastSent.set(endpointId, Date.now());
    wakeWebhookEndpoint(client, config, endpointId)
      .catch((error: unknown) => log.warn({ err: error, endpointId }, 'webhook wake-up failed; its timer will look'))
      .finally(() => {
        inFlight.delete(endpointId);
        if (again.delete(endpointId)) wake(endpointId);
      });
  }

  async function connect(): Promise<void> {
    const connection = createEventsListener(config.databaseUrl, 'webhook-waker');
    listener = connection;
    connection.on('notification', (message) => {
      if (message.channel === WEBHOOK_DELIVERIES_CHANNEL && message.payload) wake(message.payload);
    });
    connection.on('error', (error) => {
      log.warn({ err: error }, 'webhook waker lost its LISTEN connection; reconnecting');
      reconnectSoon();
    });
    await connection.connect();
    await listenForWebhookDeliveries(connection);
    for (const endpointId of await repos.webhookDeliveries.endpointsWithWaiting()) wake(endpointId);
  }

  function reconnectSoon(): void {
    if (stopped || reconnectTimer) return;
    void listener?.end().catch(() => undefined);
    listener = undefined;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect().catch((error: unknown) => {
        log.warn({ err: error }, 'webhook waker could not LISTEN; retrying');
        reconnectSoon();
      });
    }, 1_000);
  }

  connect().catch((error: unknown) => {
    log.warn({ err: error }, 'webhook waker could not LISTEN; retrying');
    reconnectSoon();
  });

  return {
    wake,
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      for (const timer of waiting.values()) clearTimeout(timer);
      await listener?.end().catch(() => undefined);
    },
  };
}
