// The Idempotency-Key header of the routes that create something, and the digest of the request a key is bound to.
import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import { unprocessable } from './errors.js';

/** Printable ASCII, as clients make keys (a UUID, a ULID), and bounded: a key names a request, it carries nothing. */
export const IdempotencyKey = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[\\x20-\\x7e]+$',
  description:
    'Sent again with the same request, answers as the first time did and creates nothing more; with another request, 422 idempotency_key_reused. Scoped to the caller.',
  examples: ['7c9e6679-7425-40de-944b-e07fc1f90ae7'],
});

export const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(IdempotencyKey) });

/** The answer to a key sent again with a different request. */
export const idempotencyKeyReused = () =>
  unprocessable('idempotency_key_reused', 'This Idempotency-Key was already used for a different request');

/** What a request asks for, as a digest of the canonical form its route builds (so key and item order do not count). */
export function requestDigest(canonical: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
