// The whole HTTP API as one Fastify instance: infrastructure plugins, then services, then routes.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Knex } from 'knex';
import type { Config } from '../config.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import repositoriesPlugin from './plugins/repositories.js';
import healthRoutes from './routes/health.js';
import orderRoutes from './routes/orders.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    temporal: Client;
  }
}

export interface AppDeps {
  config: Config;
  db: Knex;
  temporal: Client;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? { level: deps.config.logLevel },
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', deps.config);
  app.decorate('temporal', deps.temporal);

  await app.register(errorsPlugin);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Durable food ordering and delivery API', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(repositoriesPlugin, { db: deps.db });
  await app.register(authPlugin);

  await app.register(healthRoutes);
  await app.register(orderRoutes);

  return app;
}
