// One error handler for the whole API: 4xx go out as they are, anything unknown is logged and answered as a bare 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';

const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

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
    request.log.error({ err, method: request.method, url: request.url, params: request.params }, 'unhandled error');
    return reply.code(500).send({ error: 'internal_error', message: 'Internal Server Error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'not_found', message: `Route ${request.method} ${request.url.split('?')[0]} not found` });
  });
});
