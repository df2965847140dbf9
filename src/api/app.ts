// The whole HTTP API as one Fastify instance: infrastructure plugins, then services, then routes.
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Knex } from 'knex';
import { createBankClient, type BankClient } from '../bank/client.js';
import { bankUrl, type Config } from '../config.js';
import { createEventFanout } from '../events/fanout.js';
import { withTraceFields } from '../telemetry/context.js';
import { activeTracing } from '../telemetry/tracing.js';
import { addOperationExamples } from './openapi/examples.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin, { frameworkErrors } from './plugins/errors.js';
import logContextPlugin from './plugins/log-context.js';
import metricsPlugin, { type MetricsOptions } from './plugins/metrics.js';
import { AdmissionGate } from './admission.js';
import repositoriesPlugin from './plugins/repositories.js';
import securityPlugin, { exactBodyValidators, strictDateTimeFormat } from './plugins/security.js';
import liveStreamsPlugin, { type LiveStreamOptions } from './plugins/sse.js';
import staticPlugin from './plugins/static.js';
import accountRoutes from './routes/accounts.js';
import availabilityRoutes from './routes/availability.js';
import catalogRoutes from './routes/catalog.js';
import categoryRoutes from './routes/categories.js';
import codecRoutes from './routes/codec.js';
import counterOrderRoutes from './routes/counter-orders.js';
import deliveryRoutes from './routes/deliveries.js';
import healthRoutes from './routes/health.js';
import kitchenRoutes from './routes/kitchen.js';
import locationRoutes from './routes/locations.js';
import orderRoutes from './routes/orders.js';
import productionRoutes from './routes/production.js';
import productRoutes from './routes/products.js';
import sessionRoutes from './routes/session.js';
import slotRoutes from './routes/slots.js';
import staffRoutes from './routes/staff.js';
import streamRoutes from './routes/streams.js';
import tokenRoutes from './routes/tokens.js';
import webhookEndpointRoutes from './routes/webhook-endpoints.js';
import webhookRoutes from './routes/webhooks.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    temporal: Client;
    /** The bank, for confirming and opening the accounts customers pay with. */
    bank: BankClient;
    /** Admission control of order placement; undefined when ORDER_ADMISSION=false. */
    admission: AdmissionGate | undefined;
  }
}

export interface AppDeps {
  config: Config;
  db: Knex;
  temporal: Client;
  /** The bank client; one for config's bank URL and API key when not given. */
  bank?: BankClient;
  logger?: FastifyServerOptions['logger'];
  /** Live streams: a fan-out to share (the app builds its own LISTEN connection from config.databaseUrl otherwise) and stream limits. */
  live?: Partial<LiveStreamOptions>;
  /** How /metrics counts orders by status (tests turn the cache off). */
  metrics?: Pick<MetricsOptions, 'ordersByStatusCacheMs'>;
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withTraceFields(deps.logger ?? { level: deps.config.logLevel }),
    bodyLimit: 64 * 1024,
    // A hop count trusts that many proxies nearest the API, as proxy-addr counts them.
    trustProxy: typeof deps.config.trustProxy === 'number' ? trustHops(deps.config.trustProxy) : deps.config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    frameworkErrors,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false },
      onCreate: strictDateTimeFormat,
    },
    schemaController: { compilersFactory: { buildValidator: exactBodyValidators() } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', deps.config);
  app.decorate('temporal', deps.temporal);
  app.decorate('bank', deps.bank ?? createBankClient(bankUrl(deps.config), { apiKey: deps.config.bank.apiKey }));
  const admission = deps.config.admission ? new AdmissionGate(deps.config.admission) : undefined;
  app.decorate('admission', admission);
  app.addHook('onClose', async () => admission?.close());

  // First, so every route and hook after it runs inside the request's span.
  const tracing = activeTracing();
  if (tracing) await app.register(tracing.fastify.plugin());
  await app.register(errorsPlugin);
  // Before every route (docs included), so its headers, CORS and limits reach them all, and before auth, so a CORS preflight needs no token.
  await app.register(securityPlugin, {
    corsOrigins: deps.config.corsOrigins,
    codecOrigins: deps.config.temporal.uiOrigins,
    rateLimits: deps.config.rateLimits,
    db: deps.db,
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Durable food ordering and delivery API', version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transformObject: addOperationExamples,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(logContextPlugin);
  await app.register(repositoriesPlugin, {
    db: deps.db,
    readReplica: { url: deps.config.databaseReadUrl, maxLagMs: deps.config.databaseReadMaxLagMs },
  });
  await app.register(cookie, { secret: deps.config.cookieSecret, hook: 'onRequest' });
  await app.register(authPlugin);
  // One LISTEN connection per process, opened when the first stream does; closed after preClose has ended the streams.
  const fanout =
    deps.live?.fanout ?? createEventFanout({ databaseUrl: deps.config.databaseUrl, db: deps.db, log: app.log });
  if (!deps.live?.fanout) app.addHook('onClose', () => fanout.close());
  await app.register(liveStreamsPlugin, { ...deps.live, fanout });
  await app.register(metricsPlugin, { token: deps.config.metricsToken, ...deps.metrics, fanout });

  await app.register(healthRoutes);
  await app.register(orderRoutes);
  await app.register(counterOrderRoutes);
  await app.register(catalogRoutes);
  await app.register(productRoutes);
  await app.register(categoryRoutes);
  await app.register(locationRoutes);
  await app.register(availabilityRoutes);
  await app.register(webhookRoutes);
  await app.register(kitchenRoutes);
  await app.register(webhookEndpointRoutes);
  await app.register(deliveryRoutes);
  await app.register(slotRoutes);
  await app.register(productionRoutes);
  await app.register(sessionRoutes);
  await app.register(accountRoutes);
  await app.register(tokenRoutes);
  await app.register(staffRoutes);
  await app.register(streamRoutes);
  await app.register(codecRoutes);
  await app.register(staticPlugin);

  return app;
}
