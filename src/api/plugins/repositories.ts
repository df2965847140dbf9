// Decorates the app with its repositories, built once over the shared knex instance.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Knex } from 'knex';
import { createCatalogRepository } from '../../db/repositories/catalog.js';
import { createDeliveryRepository } from '../../db/repositories/deliveries.js';
import { createOrderRepository } from '../../db/repositories/orders.js';
import { createUserRepository } from '../../db/repositories/users.js';

function createRepositories(db: Knex) {
  return {
    users: createUserRepository(db),
    orders: createOrderRepository(db),
    catalog: createCatalogRepository(db),
    deliveries: createDeliveryRepository(db),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Knex;
    repos: ReturnType<typeof createRepositories>;
  }
}

export default fp(async (app: FastifyInstance, opts: { db: Knex }) => {
  app.decorate('db', opts.db);
  app.decorate('repos', createRepositories(opts.db));
}, { name: 'repositories' });
