// The pages' session: a signed httpOnly cookie standing for a token, because an EventSource cannot send an Authorization header.
//
// CSRF: the cookie is SameSite=Strict, and every state-changing request authenticated by it must also carry the
// header `x-csrf: 1`. A cross-site form cannot set a header, and a cross-site fetch that sets one needs a CORS
// preflight this API never grants. Requests with a bearer token carry no ambient credential and need no such header.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashToken, newToken } from '../auth/tokens.js';
import type { Repositories } from '../db/repositories/index.js';
import { ApiError } from './errors.js';

export const SESSION_COOKIE = 'session';
export const CSRF_HEADER = 'x-csrf';
export const SESSION_TTL_SECONDS = 12 * 60 * 60;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The cookie holds the token's hash and an expiry, signed with the cookie secret: the hash finds the user (so
 * revoking the token ends the session), the signature stops anyone forging one, the expiry bounds a stolen copy.
 */
export function setSessionCookie(reply: FastifyReply, tokenHash: string, now = Date.now()): void {
  const expiresAt = Math.floor(now / 1000) + SESSION_TTL_SECONDS;
  reply.setCookie(SESSION_COOKIE, `${tokenHash}.${expiresAt}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'strict',
    // Secure whenever the request came over TLS; plain http only on a developer's machine.
    secure: 'auto',
    path: '/',
    maxAge: SESSION_TTL_SECONDS,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' });
}

/** The token hash a valid, unexpired session cookie stands for; undefined for none, a forged or an expired one. */
export function sessionTokenHash(request: FastifyRequest, now = Date.now()): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  const match = /^([0-9a-f]{64})\.(\d{1,12})$/.exec(unsigned.value);
  if (!match || Number(match[2]) * 1000 <= now) return undefined;
  return match[1];
}

/** Refuses a state-changing request that rides on the cookie without the CSRF header. */
export function requireCsrfHeader(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  if (request.headers[CSRF_HEADER] !== '1') {
    throw new ApiError(
      403,
      'csrf_required',
      `Requests made with the session cookie must send the header "${CSRF_HEADER}: 1"`,
    );
  }
}

/** Logs a browser in as the user: a new session credential, expiring with its cookie, which logout deletes. */
export async function startSession(
  repos: Pick<Repositories, 'credentials'>,
  reply: FastifyReply,
  userId: string,
  now = Date.now(),
): Promise<void> {
  const tokenHash = hashToken(newToken('session'));
  await repos.credentials.issue({
    userId,
    kind: 'session',
    name: 'page login',
    tokenHash,
    expiresAt: new Date(now + SESSION_TTL_SECONDS * 1000),
  });
  setSessionCookie(reply, tokenHash, now);
}
