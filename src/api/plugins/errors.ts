// One error handler for the whole API: 4xx go out as they are, a dependency out of reach is a 503, anything unknown is logged and answered as a bare 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

// Postgres or Temporal out of reach for a moment: the request may succeed when retried.
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006']);
// gRPC UNAVAILABLE and DEADLINE_EXCEEDED from Temporal.
const GRPC_TRANSIENT = new Set([14, 4]);

function isTransient(err: unknown): boolean {
  for (let e = err as { code?: unknown; name?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
    if ((typeof e.code === 'number' && GRPC_TRANSIENT.has(e.code)) || e.name === 'KnexTimeoutError') return true;
    if (e instanceof Error && /Connection terminated|connection ended unexpectedly/i.test(e.message)) return true;
  }
  return false;
}

export default fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
    }
    if (err.validation) {
      return reply.code(400).send({
        error: 'validation_failed',
        message: err.message,
        details: err.validation.map((v) => ({ field: `/${err.validationContext ?? 'request'}${v.instancePath}`, message: v.message })),
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
      return reply.code(503).header('retry-after', '1').send({ error: 'temporarily_unavailable', message: 'A dependency is briefly unavailable; retry shortly' });
    }
    request.log.error({ err, method: request.method, url: request.url, params: request.params }, 'unhandled error');
    return reply.code(500).send({ error: 'internal_error', message: 'Internal Server Error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` });
  });
});

/**
 * Fastify refuses a few requests before routing (a broken percent-encoding, a path parameter past maxParamLength),
 * where no error handler runs; passed as the app's `frameworkErrors` option, this gives them the one error shape.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err, method: request.method, url: request.url }, 'unhandled error before routing');
    void reply.code(500).send({ error: 'internal_error', message: 'Internal Server Error' });
    return;
  }
  const code = err.code === 'FST_ERR_BAD_URL' ? 'bad_url' : err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'bad_request';
  void reply.code(status).send({ error: code, message: code === 'bad_url' ? 'The URL has a malformed percent-encoding' : err.message });
}
