// API tokens: long random values handed to users once and stored only as hashes.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The token of an `Authorization: Bearer <token>` header; undefined when the header is missing or has another form. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S{1,200})$/i.exec(header ?? '')?.[1];
}

/** Whether two tokens are equal, compared over their hashes in constant time, so timing reveals nothing of either. */
export function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a)), Buffer.from(hashToken(b)));
}
