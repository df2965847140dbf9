// Every repository of the application database, built over one knex instance or one transaction. The only door to
// the data: code outside src/db/ calls these and builds no query of its own.
import type { Knex } from 'knex';
import type { ReadPool } from '../read-pool.js';
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

/**
 * The reads a read replica may serve: they decide nothing. A replica a little behind shows at worst a unit or a slot
 * that is gone, and the order for it is refused by the reservation, which reads the primary. Live views' snapshots
 * are not among them: a snapshot must hold every event up to its stream's watermark, which only the primary promises.
 */
const REPLICA_READS = {
  availability: ['locationsDeliveringTo', 'availabilityPage'],
  catalog: ['listProducts', 'findProduct'],
  categories: ['listCategories'],
  locations: ['locationExists', 'findLocation', 'findCollectionTimes'],
  slots: ['listBetween'],
} as const satisfies { [K in keyof UnitOfWork]?: readonly (keyof UnitOfWork[K])[] };

type ReplicaReads = typeof REPLICA_READS;
export type ReadRepositories = {
  [K in keyof ReplicaReads]: Pick<UnitOfWork[K], Extract<ReplicaReads[K][number], keyof UnitOfWork[K]>>;
};

/** The replica-served reads, each run through the read pool: on the replica while it is well, on the primary otherwise. */
export function createReadRepositories(pool: ReadPool): ReadRepositories {
  const built = new Map<Knex, UnitOfWork>();
  const over = (db: Knex): UnitOfWork => {
    let repos = built.get(db);
    if (!repos) built.set(db, (repos = build(db)));
    return repos;
  };
  const routed: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const [name, methods] of Object.entries(REPLICA_READS)) {
    routed[name] = Object.fromEntries(
      methods.map((method) => [
        method,
        (...args: unknown[]) =>
          pool.read((db) => {
            const repository = over(db)[name as keyof ReplicaReads] as unknown as Record<
              string,
              (...a: unknown[]) => Promise<unknown>
            >;
            return repository[method]!(...args);
          }),
      ]),
    );
  }
  return routed as unknown as ReadRepositories;
}
