// The API's outer defences: security headers, CORS closed unless configured, per-route rate limits, and input no route may receive.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Knex } from 'knex';
import { ApiError, badRequest } from '../errors.js';
import { createCredentialRepository } from '../../db/repositories/credentials.js';
import { postgresRateLimitStore, sweepRateLimitCounters } from '../rate-limit-store.js';
import { errorResponse } from '../schemas.js';
import { CODEC_PATH } from '../routes/codec.js';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser on another site; empty closes CORS. */
  corsOrigins: string[];
  /** The Temporal Web UI's origins: they may call the codec endpoint (/codec/...) with the operator's cookie. */
  codecOrigins: string[];
  rateLimits: { loginPerMinute: number; ordersPerMinute: number; store: 'memory' | 'postgres' };
  /** Holds the shared counters when `rateLimits.store` is postgres. */
  db: Knex;
}

/** How often a replica deletes counters whose window has ended and sessions that have expired. */
const SWEEP_EVERY_MS = 60_000;

interface RateLimitRule {
  /** Requests per minute; 0 turns the limit off. */
  perMinute: number;
  /** Who a limit counts: an address for anonymous routes, the user where one is known, so customers behind one NAT do not share. */
  keyBy: 'ip' | 'user';
}

/** The rate-limited routes, `METHOD url` as registered; each must exist, so renaming a route cannot silently drop its limit. */
export function rateLimitedRoutes(limits: SecurityOptions['rateLimits']): Record<string, RateLimitRule> {
  return {
    // Guessing tokens through the login is what this limit stops; tokens are 192 random bits, so it is defence in depth.
    'POST /v1/session': { perMinute: limits.loginPerMinute, keyBy: 'ip' },
    // Each sign-up hashes a password (19 MiB, tens of milliseconds) and writes an account.
    'POST /v1/accounts': { perMinute: limits.loginPerMinute, keyBy: 'ip' },
    'POST /v1/invitations/:token/accept': { perMinute: limits.loginPerMinute, keyBy: 'ip' },
    // Every order starts a workflow and holds stock and a slot until it is paid or times out.
    'POST /v1/orders': { perMinute: limits.ordersPerMinute, keyBy: 'user' },
  };
}

// JSON and event streams only: nothing the API answers may load, run or frame anything.
const API_CSP = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

// Swagger UI at /docs runs its own scripts and styles from this origin and sets inline style attributes.
const DOCS_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
};

/**
 * Text Postgres cannot store: NUL (refused in text and jsonb) and unpaired UTF-16 surrogates (refused in jsonb,
 * silently replaced in text). Refused at the door, so no query, workflow input or activity retry ever meets them.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether Postgres can store this text as it is. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE_TEXT.test(text);
}

/** The first place in a parsed body, query or params whose text (value or key) Postgres cannot store; iterative, so nesting cannot overflow the stack. */
export function findUnstorableText(root: unknown, rootPath: string): string | undefined {
  const pending: [unknown, string][] = [[root, rootPath]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, at] = next;
    if (typeof value === 'string') {
      if (UNSTORABLE_TEXT.test(value)) return at;
    } else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (UNSTORABLE_TEXT.test(key)) return at;
        pending.push([child, `${at}/${key}`]);
      }
    }
  }
  return undefined;
}

const RFC3339_DATE_TIME =
  /^(\d{4})-(\d\d)-(\d\d)[Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

/** An RFC 3339 instant that names a real calendar day and that JavaScript can represent. */
export function isRepresentableDateTime(value: string): boolean {
  const match = RFC3339_DATE_TIME.exec(value);
  if (!match || Number.isNaN(Date.parse(value))) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // JavaScript rolls 2024-02-30 over into March instead of refusing it.
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Runs when the app's Ajv is created (after ajv-formats). The stock `date-time` format admits leap seconds (23:59:60),
 * which `new Date()` turns into an invalid date that a query then fails on; this one admits only what handlers can use.
 */
export function strictDateTimeFormat(ajv: FormatRegistry): void {
  ajv.addFormat('date-time', { type: 'string', validate: isRepresentableDateTime });
}

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;
interface AjvServerOptions {
  customOptions?: Record<string, unknown>;
}
type ValidatorFor = (route: { httpPart?: string }) => unknown;
type BuildValidator = (externalSchemas: unknown, options: AjvServerOptions) => ValidatorFor;

/**
 * Fastify's own validator compiler, as Fastify resolves it: the API takes it as Fastify ships it rather than pinning
 * a copy of its own.
 */
const fastifyAjvCompiler = createRequire(createRequire(import.meta.url).resolve('fastify'))(
  '@fastify/ajv-compiler',
) as () => BuildValidator;

/**
 * Validators that coerce the query string, path and headers (text, where `?limit=20` must become a number) but take a
 * JSON body exactly as sent: coercion there would turn `null` into `""` or `"5"` into 5, accepting what the schema
 * refuses. Passed as the app's `schemaController.compilersFactory.buildValidator`.
 */
export function exactBodyValidators(): ValidatorFactory {
  const build = fastifyAjvCompiler();
  const factory: BuildValidator = (externalSchemas, options) => {
    const coercing = build(externalSchemas, options);
    const exact = build(externalSchemas, {
      ...options,
      customOptions: { ...options.customOptions, coerceTypes: false },
    });
    return (route) => (route.httpPart === 'body' ? exact : coercing)(route);
  };
  return factory as unknown as ValidatorFactory;
}

/** The part of Ajv used here, so this module needs no direct dependency on Ajv. */
interface FormatRegistry {
  addFormat(name: string, format: { type: 'string'; validate: (value: string) => boolean }): unknown;
}

export default fp(
  async (app: FastifyInstance, opts: SecurityOptions) => {
    const rules = rateLimitedRoutes(opts.rateLimits);
    const limited = new Set<string>();
    // Added before helmet's own onRoute hook, which picks up a route's `helmet` option.
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (route.url.startsWith('/docs')) {
        route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } };
      }
      for (const method of methods) {
        const key = `${method} ${route.url}`;
        const rule = rules[key];
        if (!rule) continue;
        limited.add(key);
        if (rule.perMinute === 0) continue;
        if (route.schema) ((route.schema.response ??= {}) as Record<string, unknown>)[429] ??= errorResponse(429);
        // A route-level onRequest hook runs after the app's own (auth among them), so the caller is known here.
        // app.rateLimit exists by the time routes are added: the plugin is registered below.
        const limiter = app.rateLimit({
          max: rule.perMinute,
          timeWindow: 60_000,
          // The route is part of the key, so routes never share a budget, whichever store holds the counters.
          keyGenerator: (request: FastifyRequest) =>
            `${key}|${rule.keyBy === 'user' && request.user ? `user:${request.user.id}` : `ip:${request.ip}`}`,
        });
        route.onRequest = [
          ...(route.onRequest === undefined
            ? []
            : Array.isArray(route.onRequest)
              ? route.onRequest
              : [route.onRequest]),
          limiter,
        ];
      }
    });

    await app.register(helmet, {
      contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
      // The API is called, never embedded: no other site may frame it or read it without CORS.
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
    });

    const anyOrigin = opts.corsOrigins.includes('*');
    const apiCors = {
      origin: anyOrigin ? '*' : opts.corsOrigins.length > 0 ? opts.corsOrigins : false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // No x-csrf here: a cross-site page may call with a bearer token, never ride on the session cookie.
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'last-event-id'],
      exposedHeaders: ['retry-after', 'idempotent-replayed'],
      credentials: false,
      maxAge: 600,
    };
    // The Web UI's codec calls carry the operator's cookie, so only its own named origins are granted, with credentials.
    const codecCors = {
      origin: opts.codecOrigins.length > 0 ? opts.codecOrigins : false,
      methods: ['POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-namespace'],
      credentials: true,
      maxAge: 600,
    };
    // Chosen per request, preflights included (they reach the catch-all OPTIONS route, not the codec's own).
    await app.register(cors, {
      delegator: async (request: FastifyRequest) => (request.url.startsWith(`${CODEC_PATH}/`) ? codecCors : apiCors),
    });

    const shared = opts.rateLimits.store === 'postgres';
    await app.register(rateLimit, {
      global: false,
      ...(shared ? { store: postgresRateLimitStore(opts.db) } : {}),
      // A counter that cannot be read lets the request through: the route itself then answers 503 if the database is down.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new ApiError(
          429,
          'rate_limited',
          `Too many requests: at most ${context.max} a minute. Retry in ${context.after}`,
        ),
    });

    // Failed-login counters live in Postgres whatever the store, and so do sessions: ended windows and expired
    // sessions are deleted by every replica (the deletes are idempotent).
    const sweep = setInterval(() => {
      Promise.all([sweepRateLimitCounters(opts.db), createCredentialRepository(opts.db).sweepExpiredSessions()]).catch(
        (err: unknown) => app.log.warn({ err }, 'could not sweep rate-limit counters and expired sessions'),
      );
    }, SWEEP_EVERY_MS);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));

    app.addHook('onReady', async () => {
      const missing = Object.keys(rules).filter((key) => !limited.has(key));
      if (missing.length > 0) throw new Error(`Rate limits name routes that do not exist: ${missing.join(', ')}`);
    });

    app.addHook('preValidation', async (request) => {
      const at =
        findUnstorableText(request.params, '/params') ??
        findUnstorableText(request.query, '/querystring') ??
        findUnstorableText(request.body, '/body');
      if (at !== undefined) {
        throw badRequest('validation_failed', 'Text may not contain NUL characters or unpaired surrogates', [
          { field: at, message: 'contains text that cannot be stored' },
        ]);
      }
    });
  },
  { name: 'security' },
);
