// Every repository of the application database, built over one knex instance or one transaction. The only door to
// the data: code outside src/db/ calls these and builds no query of its own.
import type { Knex } from 'knex';
import { createAvailabilityRepository } from './availability.js';
import { createCatalogRepository } from './catalog.js';
import { createCategoryRepository } from './categories.js';
import { createCredentialRepository } from './credentials.js';
import { createDeliveryRepository } from './deliveries.js';
import { createEventPartitionRepository } from './event-partitions.js';
import { createEventRepository } from './events.js';
import { createKitchenRepository } from './kitchen.js';
import { createLocationRepository } from './locations.js';
import { createOrderHistoryRepository } from './order-history.js';
import { createOrderRepository } from './orders.js';
import { createRateLimitRepository } from './rate-limits.js';
import { createSlotRepository } from './slots.js';
import { createStaffRepository } from './staff.js';
import { createStockLotRepository } from './stock-lots.js';
import { createUserRepository } from './users.js';
import { createWebhookDeliveryRepository } from './webhook-deliveries.js';
import { createWebhookEndpointRepository } from './webhook-endpoints.js';
import { createWebhookEventRepository } from './webhook-events.js';

function build(db: Knex) {
  return {
    users: createUserRepository(db),
    credentials: createCredentialRepository(db),
    staff: createStaffRepository(db),
    catalog: createCatalogRepository(db),
    categories: createCategoryRepository(db),
    locations: createLocationRepository(db),
    availability: createAvailabilityRepository(db),
    stock: createStockLotRepository(db),
    slots: createSlotRepository(db),
    orders: createOrderRepository(db),
    orderHistory: createOrderHistoryRepository(db),
    deliveries: createDeliveryRepository(db),
    events: createEventRepository(db),
    eventPartitions: createEventPartitionRepository(db),
    webhookEvents: createWebhookEventRepository(db),
    webhookEndpoints: createWebhookEndpointRepository(db),
    webhookDeliveries: createWebhookDeliveryRepository(db),
    rateLimits: createRateLimitRepository(db),
    kitchen: createKitchenRepository(db),
  };
}

export type UnitOfWork = ReturnType<typeof build>;

export function createRepositories(db: Knex) {
  return {
    ...build(db),
    /**
     * One transaction over several repositories: every repository `work` is handed writes in it, and each repository's
     * own multi-statement writes join it instead of opening their own. Commits when `work` resolves, rolls back when it throws.
     */
    transaction<T>(work: (tx: UnitOfWork) => Promise<T>): Promise<T> {
      return db.transaction((trx) => work(build(trx)));
    },
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
