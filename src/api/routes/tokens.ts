// API tokens for scripts: named, shown once, listed by name and last use, revoked at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { hashToken, newToken } from '../../auth/tokens.js';
import { conflict, notFound } from '../errors.js';
import { errorResponses, Uuid } from '../schemas.js';

/** Tokens one user may hold: the whole list fits one page. */
export const MAX_API_TOKENS = 50;

const Timestamp = Type.String({ format: 'date-time' });
const TokenView = Type.Object({
  id: Uuid,
  name: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()], { description: 'To the minute' }),
});

const tokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const anyone = app.requireRole('customer', 'owner', 'driver', 'operator');

  app.post(
    '/v1/me/tokens',
    {
      onRequest: anyone,
      schema: {
        tags: ['accounts'],
        summary: 'Create a named API token for a script; the token is shown in this answer only',
        security: [{ bearer: [] }],
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ id: Uuid, name: Type.String(), token: Type.String(), createdAt: Timestamp }),
          ...errorResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const token = newToken(`${user.role}`);
      const view = await app.repos.credentials.issueApiToken(
        { userId: user.id, name: request.body.name.trim(), tokenHash: hashToken(token) },
        MAX_API_TOKENS,
      );
      if (!view) throw conflict('too_many_tokens', `A user may hold ${MAX_API_TOKENS} API tokens; revoke one first`);
      return reply.code(201).send({ id: view.id, name: view.name, token, createdAt: view.createdAt });
    },
  );

  app.get(
    '/v1/me/tokens',
    {
      onRequest: anyone,
      schema: {
        tags: ['accounts'],
        summary: `The caller's API tokens, newest first (at most ${MAX_API_TOKENS}), never their values`,
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ tokens: await app.repos.credentials.apiTokens(request.user!.id, MAX_API_TOKENS) }),
  );

  app.delete(
    '/v1/me/tokens/:id',
    {
      onRequest: anyone,
      schema: {
        tags: ['accounts'],
        summary: 'Revoke one of the caller’s API tokens: its next use is refused',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await app.repos.credentials.revokeApiToken(request.user!.id, request.params.id))) throw notFound('Token');
      return reply.code(204).send(null);
    },
  );
};

export default tokenRoutes;
