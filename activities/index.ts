// Builds every activity from its dependencies, so tests can hand in a real test database or fakes.
import type { Knex } from 'knex';
import type { BankClient } from '../src/bank/client.js';
import { loadConfig, type WebhookSettings } from '../src/config.js';
import { createCollectionActivities } from './collection.js';
import { createDeliveryActivities } from './deliveries.js';
import { createEventPartitionActivities, type EventPartitionSettings } from './event-partitions.js';
import { createInventoryActivities } from './inventory.js';
import { createOrderActivities } from './orders.js';
import { createPaymentActivities } from './payments.js';
import { createProductionActivities } from './production.js';
import { createReconcileActivities } from './reconcile.js';
import { createSlotActivities } from './slots.js';
import { createWebhookActivities } from './webhooks.js';

export interface ActivityDeps {
  db: Knex;
  bank: BankClient;
  /** Where webhooks may go and how they are retried; the environment's settings when not given. */
  webhooks?: WebhookSettings;
  /** How long the event log is kept; the environment's EVENTS_RETENTION_DAYS when not given. */
  events?: EventPartitionSettings;
}

export function createActivities(deps: ActivityDeps) {
  const steps = {
    ...createOrderActivities(deps.db),
    ...createDeliveryActivities(deps.db),
    ...createCollectionActivities(deps.db),
    ...createInventoryActivities(deps.db),
    ...createSlotActivities(deps.db),
    ...createProductionActivities(deps.db),
    ...createPaymentActivities(deps.bank),
    ...createWebhookActivities(deps.db, deps.webhooks ?? loadConfig().webhooks),
  };
  return {
    ...steps,
    ...createReconcileActivities(deps.db, deps.bank, steps),
    ...createEventPartitionActivities(deps.db, deps.events ?? loadConfig().events),
  };
}

export type Activities = ReturnType<typeof createActivities>;
