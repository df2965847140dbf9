// The pages' login: a token is exchanged once for a signed session cookie, which the API then accepts like the token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { hashToken } from '../../auth/tokens.js';
import { unauthorized } from '../errors.js';
import { errorResponses, Uuid } from '../schemas.js';
import { Role } from '../../domain/vocabulary.js';
import { clearSessionCookie, requireCsrfHeader, setSessionCookie } from '../session-cookie.js';

const SessionUser = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Role,
  locationIds: Type.Array(Uuid),
});

const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Log a page in: exchanges a token for a signed httpOnly session cookie (send the header x-csrf: 1)',
        body: Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ user: SessionUser }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      // Without it a cross-site form could log the victim's browser into someone else's account.
      requireCsrfHeader(request);
      const tokenHash = hashToken(request.body.token);
      const user = await app.repos.users.findByTokenHash(tokenHash);
      if (!user) throw unauthorized('Unknown or revoked token');
      setSessionCookie(reply, tokenHash);
      return { user };
    },
  );

  app.get(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Who the session cookie (or bearer token) belongs to',
        response: { 200: Type.Object({ user: SessionUser }), ...errorResponses(401) },
      },
    },
    async (request) => {
      if (!request.user) throw unauthorized('Not logged in');
      return { user: request.user };
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Log out: clears the session cookie',
        response: { 204: Type.Null(), ...errorResponses(403) },
      },
    },
    async (_request, reply) => {
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );
};

export default sessionRoutes;
