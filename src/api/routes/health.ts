// Liveness and readiness: readiness names each dependency that is down.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Connection } from '@temporalio/client';
import { Type } from 'typebox';
import { pingDatabase } from '../../db/repositories/database.js';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) });
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Object({ postgres: Check, temporal: Check }),
});

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Temporal is probed over a connection of its own that makes one attempt per check, bounded by a deadline. The
  // client's connection retries an unreachable server on timers that outlive the request, so a probe through it
  // could still be retrying, against a closed channel, when the API shuts down.
  let probe: Connection | undefined;
  const probeTemporal = async (): Promise<unknown> => {
    const shared = app.temporal.connection;
    if (!(shared instanceof Connection)) return app.temporal.workflowService.getSystemInfo({});
    probe ??= Connection.lazy({ ...shared.options, interceptors: [] });
    const connection = probe;
    return connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}));
  };
  app.addHook('onClose', async () => {
    await probe?.close();
  });

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Postgres and Temporal are reachable',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [postgres, temporal] = await Promise.all([
        withTimeout(pingDatabase(app.db), 'Postgres').then(
          () => ({ ok: true }),
          (err: Error) => ({ ok: false, error: err.message }),
        ),
        withTimeout(probeTemporal(), 'Temporal').then(
          () => ({ ok: true }),
          (err: Error) => ({ ok: false, error: err.message }),
        ),
      ]);
      const ready = postgres.ok && temporal.ok;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } });
    },
  );
};

export default healthRoutes;
