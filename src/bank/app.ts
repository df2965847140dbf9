// The bank as one Fastify instance over its own database, with its decision and webhook loop started on ready and stopped on close.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Knex } from 'knex';
import { unauthorized } from '../api/errors.js';
import errorsPlugin from '../api/plugins/errors.js';
import { bearerToken, sameToken } from '../auth/tokens.js';
import { createLedger, type Ledger } from './ledger.js';
import { createBankProcessor, type BankProcessor, type ProcessorOptions } from './processor.js';
import bankRoutes from './routes.js';
import { withTraceFields } from '../telemetry/context.js';
import { activeTracing } from '../telemetry/tracing.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Set on the bank's app only: the loop that decides charges and delivers webhooks. */
    bankProcessor: BankProcessor;
    bankLedger: Ledger;
  }
}

export interface BankAppOptions extends Pick<
  ProcessorOptions,
  'pollIntervalMs' | 'retryBaseMs' | 'retryMaxMs' | 'deliveryTimeoutMs'
> {
  /** The bank's own database, already migrated. */
  db: Knex;
  /** Where charge results are POSTed: the merchant's webhook endpoint. */
  webhookUrl: string;
  webhookSecret: string;
  /** The one merchant's credential: every request but the liveness check must carry `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Whether POST /accounts opens test accounts (dev and test); without it the route does not exist. */
  testAccounts: boolean;
  logger?: FastifyServerOptions['logger'];
  /** False: the loop is not started with the app, and tests drive it with `bankProcessor.runOnce()`. */
  startProcessor?: boolean;
}

export async function buildBankApp(opts: BankAppOptions): Promise<FastifyInstance> {
  if (!opts.webhookSecret) throw new Error('The bank needs a webhook secret to sign its webhooks');
  if (!opts.apiKey) throw new Error('The bank needs an API key to admit its merchant');
  const app = Fastify({
    logger: withTraceFields(opts.logger ?? { level: 'info' }),
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ledger = createLedger(opts.db);
  const processor = createBankProcessor({
    ledger,
    webhookUrl: opts.webhookUrl,
    webhookSecret: opts.webhookSecret,
    log: app.log,
    pollIntervalMs: opts.pollIntervalMs,
    retryBaseMs: opts.retryBaseMs,
    retryMaxMs: opts.retryMaxMs,
    deliveryTimeoutMs: opts.deliveryTimeoutMs,
  });
  app.decorate('bankLedger', ledger);
  app.decorate('bankProcessor', processor);
  if (opts.startProcessor ?? true) app.addHook('onReady', async () => processor.start());
  app.addHook('onClose', async () => processor.stop());

  const tracing = activeTracing();
  if (tracing) await app.register(tracing.fastify.plugin());
  await app.register(errorsPlugin);
  app.addHook('onRequest', async (request) => {
    if (request.url === '/healthz') return;
    const token = bearerToken(request.headers.authorization);
    if (!token || !sameToken(token, opts.apiKey)) throw unauthorized('The bank needs its API key as a bearer token');
  });
  await app.register(bankRoutes, { ledger, processor, testAccounts: opts.testAccounts });
  return app;
}
