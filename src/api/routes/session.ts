// Logging in and out: a password (or, for scripts' owners, an API token) is exchanged for a signed session cookie.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { loginThrottle } from '../../auth/login-throttle.js';
import { verifyPassword } from '../../auth/passwords.js';
import { hashToken } from '../../auth/tokens.js';
import { normalizeEmail } from '../../db/repositories/users.js';
import { ApiError, unauthorized } from '../errors.js';
import { Email, errorResponses, Password, SessionUser } from '../schemas.js';
import { clearSessionCookie, requireCsrfHeader, setSessionCookie, startSession } from '../session-cookie.js';

export const invalidCredentials = () => new ApiError(401, 'invalid_credentials', 'Wrong email or password');

const PasswordLogin = Type.Object({ email: Email, password: Password }, { additionalProperties: false });
const TokenLogin = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

const sessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const throttle = loginThrottle(app.repos, app.config.loginThrottle);

  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary:
          'Log a page in with an email and password (or an API token): sets a signed httpOnly session cookie (send the header x-csrf: 1)',
        body: Type.Union([PasswordLogin, TokenLogin]),
        response: { 200: Type.Object({ user: SessionUser }), ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request, reply) => {
      // Without it a cross-site form could log the victim's browser into someone else's account.
      requireCsrfHeader(request);
      const body = request.body;
      if ('token' in body) {
        const tokenHash = hashToken(body.token);
        const caller = await app.repos.credentials.callerByTokenHash(tokenHash);
        if (!caller) throw unauthorized('Unknown or revoked token');
        // The cookie stands for the token itself, so revoking the token ends the session too.
        setSessionCookie(reply, tokenHash);
        return { user: caller.user };
      }
      const email = normalizeEmail(body.email);
      const attempt = await throttle.admit(email, request.ip);
      const record = await app.repos.users.loginRecord(email);
      // An unknown email is checked against a decoy hash: both failures take the same time and read the same.
      const matches = await verifyPassword(record?.passwordHash, body.password);
      if (!record || !matches) {
        await attempt.failed();
        throw invalidCredentials();
      }
      await attempt.succeeded();
      const user = await app.repos.users.find(record.id);
      if (!user) throw invalidCredentials();
      await startSession(app.repos, reply, user.id);
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
        summary: 'Log out: ends the session behind the cookie and clears it',
        response: { 204: Type.Null(), ...errorResponses(403) },
      },
    },
    async (request, reply) => {
      // A page logged in with an API token keeps the token: only a password login's session is deleted.
      if (request.credential?.kind === 'session') await app.repos.credentials.endSession(request.credential.id);
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );
};

export default sessionRoutes;
