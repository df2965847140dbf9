// Resolves the caller from `Authorization: Bearer <token>` (or the pages' session cookie) and offers route guards by role.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken, hashToken } from '../../auth/tokens.js';
import type { Caller } from '../../db/repositories/credentials.js';
import type { Role, User } from '../../db/repositories/users.js';
import { forbidden, unauthorized } from '../errors.js';
import { requireCsrfHeader, sessionTokenHash } from '../session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    /** The credential the caller presented: an API token, or the session behind a page's cookie. */
    credential: Caller['credential'] | null;
  }
  interface FastifyContextConfig {
    /**
     * A POST that changes nothing (the codec's), so the session cookie may call it without the CSRF header: the
     * Temporal Web UI sends the operator's cookie ("include cross-origin credentials") but no header of ours. A
     * cross-site page gets no cookie (SameSite=Strict) and cannot read an answer CORS does not grant.
     */
    changesNothing?: boolean;
  }
  interface FastifyInstance {
    /** An onRequest hook that admits only the given roles: it runs before the body is parsed, so a caller who may not call the route learns nothing of its validation. */
    requireRole(...roles: Role[]): (request: FastifyRequest) => Promise<void>;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('user', null);
    app.decorateRequest('credential', null);

    app.addHook('onRequest', async (request) => {
      // A route with its own credentials (the metrics scrape) reads the header itself.
      if (request.routeOptions.config.ownAuth) return;
      const header = request.headers.authorization;
      if (!header) {
        // Pages carry a session cookie instead; an explicit header always wins over it.
        const tokenHash = sessionTokenHash(request);
        const caller = tokenHash ? await app.repos.credentials.callerByTokenHash(tokenHash) : undefined;
        if (!caller) return;
        if (!request.routeOptions.config.changesNothing) requireCsrfHeader(request);
        request.user = caller.user;
        request.credential = caller.credential;
        return;
      }
      const token = bearerToken(header);
      if (!token) throw unauthorized('The Authorization header must be "Bearer <token>"');
      const caller = await app.repos.credentials.callerByTokenHash(hashToken(token));
      if (!caller) throw unauthorized('Unknown or revoked token');
      request.user = caller.user;
      request.credential = caller.credential;
    });

    app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest) => {
      if (!request.user) throw unauthorized();
      if (!roles.includes(request.user.role)) throw forbidden(`This needs the ${roles.join(' or ')} role`);
    });
  },
  { name: 'auth', dependencies: ['repositories', '@fastify/cookie'] },
);
