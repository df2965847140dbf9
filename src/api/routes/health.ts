// Liveness and readiness: readiness names each dependency that is down.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });
const Readiness = Type.Object({ status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]), checks: Type.Object({ postgres: Check, temporal: Check }) });

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    schema: { tags: ['ops'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'Postgres and Temporal are reachable', response: { 200: Readiness, 503: Readiness } },
  }, async (_request, reply) => {
    const [postgres, temporal] = await Promise.all([
      withTimeout(app.db.raw('SELECT 1'), 'Postgres').then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message })),
      withTimeout(app.temporal.workflowService.getSystemInfo({}), 'Temporal').then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message })),
    ]);
    const ready = postgres.ok && temporal.ok;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } });
  });
};

export default healthRoutes;
