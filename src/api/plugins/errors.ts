// One error handler for the whole API: 4xx go out as they are, a dependency out of reach is a 503, anything unknown is logged and answered as a bare 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import { errorResponse, type ErrorStatus } from '../schemas.js';

const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

// Postgres or Temporal out of reach for a moment: the request may succeed when retried.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
]);
// gRPC UNAVAILABLE and DEADLINE_EXCEEDED from Temporal.
const GRPC_TRANSIENT = new Set([14, 4]);

function isTransient(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; name?: string; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
    if ((typeof e.code === 'number' && GRPC_TRANSIENT.has(e.code)) || e.name === 'KnexTimeoutError') return true;
    if (e instanceof Error && /Connection terminated|connection ended unexpectedly/i.test(e.message)) return true;
  }
  return false;
}

/** Methods whose requests may carry a body, which Fastify parses (and may refuse) before the handler runs. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Adds to a route's documented responses the errors the app answers before its handler runs, from the route's shape:
 * 400 when it takes input (validation, malformed JSON, text Postgres cannot store), 414 for an over-long path
 * parameter, 413 and 415 for a body too large or not JSON, 401 for a malformed or unknown bearer token (refused on
 * every route), 403 for a session-cookie request that changes something without x-csrf, and 503 when Postgres or
 * Temporal is out of reach (the token lookup alone needs Postgres). What the handler itself answers (404, 409, 422,
 * the role guards' 401 and 403) each route declares; 429 comes with the rate limits.
 */
export function addSharedErrorResponses(route: RouteOptions): void {
  const schema = route.schema as (RouteOptions['schema'] & { hide?: boolean }) | undefined;
  if (!schema || schema.hide) return;
  const response = (schema.response ??= {}) as Record<string, unknown>;
  const add = (status: ErrorStatus) => {
    response[status] ??= errorResponse(status);
  };
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const takesBody = methods.some((method) => BODY_METHODS.has(method));
  if (schema.params || schema.querystring || schema.body || schema.headers || takesBody) add(400);
  if (schema.params) add(414);
  if (takesBody) {
    add(413);
    add(415);
  }
  if (!(route.config as { ownAuth?: boolean } | undefined)?.ownAuth) add(401);
  if (takesBody) add(403);
  add(503);
}

/**
 * Every route's URL pattern as a regular expression, with its methods: a known path asked with another method is a
 * 405. Where patterns overlap (`/slots/events` and `/slots/:slotId`), the path belongs to the most specific one, as
 * the document lists it: a static segment wins over a parameter, the earlier segment first.
 */
function routeTable() {
  const routes: { pattern: RegExp; rank: string; methods: Set<string> }[] = [];
  return {
    add(route: RouteOptions) {
      // The catch-all (CORS preflights) matches every path; it makes no path known.
      if (route.url === '*' || route.url === '/*') return;
      const parts = route.url.split('/');
      const source = parts
        .map((part) =>
          part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      const rank = parts.map((part) => (part.startsWith(':') || part === '*' ? '0' : '1')).join('');
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const existing = routes.find((r) => r.pattern.source === `^${source}$`);
      if (existing) methods.forEach((m) => existing.methods.add(m));
      else routes.push({ pattern: new RegExp(`^${source}$`), rank, methods: new Set(methods) });
    },
    /** The methods served at this path, or none when no route has it. */
    allowed(path: string): string[] {
      const matching = routes.filter((r) => r.pattern.test(path));
      const best = matching.reduce((top, r) => (r.rank > top ? r.rank : top), '');
      return [...new Set(matching.filter((r) => r.rank === best).flatMap((r) => [...r.methods]))].sort();
    },
  };
}

export default fp(async (app: FastifyInstance) => {
  const table = routeTable();
  app.addHook('onRoute', (route) => {
    table.add(route);
    addSharedErrorResponses(route);
  });

  /** No route for this method and path: 405 with Allow when the path exists under other methods, else 404. */
  function notRouted(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0]!;
    const allowed = table.allowed(path).filter((method) => method !== 'OPTIONS');
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          error: 'method_not_allowed',
          message: `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
        });
    }
    return reply.code(404).send({ error: 'not_found', message: `Route ${request.method} ${path} not found` });
  }

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    // Fastify may refuse a request it has no route for while reading its body (a QUERY without Content-Type): the
    // missing route is the answer.
    if (request.is404) return notRouted(request, reply);
    if (err instanceof ApiError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.statusCode).send({
        error: err.code,
        message: err.message,
        ...(err.details === undefined ? {} : { details: err.details }),
      });
    }
    if (err.validation) {
      return reply.code(400).send({
        error: 'validation_failed',
        message: err.message,
        details: err.validation.map((v) => ({
          field: `/${err.validationContext ?? 'request'}${v.instancePath}`,
          message: v.message,
        })),
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
        return reply.code(400).send({ error: 'invalid_json', message: 'The request body is not valid JSON' });
      }
      return reply.code(status).send({ error: fastifyCodes[err.code] ?? 'bad_request', message: err.message });
    }
    if (isTransient(err)) {
      request.log.warn({ err, method: request.method, url: request.url }, 'a dependency is unavailable');
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: 'temporarily_unavailable', message: 'A dependency is briefly unavailable; retry shortly' });
    }
    request.log.error({ err, method: request.method, url: request.url, params: request.params }, 'unhandled error');
    return reply.code(500).send({ error: 'internal_error', message: 'Internal Server Error' });
  });

  app.setNotFoundHandler((request, reply) => notRouted(request, reply));
});

/**
 * Fastify refuses a few requests before routing (a broken percent-encoding, a path parameter past maxParamLength),
 * where no error handler runs; passed as the app's `frameworkErrors` option, this gives them the one error shape.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // A path parameter past maxParamLength: the URL is too long for any route, so 414 URI Too Long.
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (err.statusCode ?? 500);
  if (status >= 500) {
    request.log.error({ err, method: request.method, url: request.url }, 'unhandled error before routing');
    void reply.code(500).send({ error: 'internal_error', message: 'Internal Server Error' });
    return;
  }
  const code =
    err.code === 'FST_ERR_BAD_URL'
      ? 'bad_url'
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'uri_too_long'
        : 'bad_request';
  void reply
    .code(status)
    .send({ error: code, message: code === 'bad_url' ? 'The URL has a malformed percent-encoding' : err.message });
}
