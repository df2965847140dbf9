// Opaque page cursors: the last item's sort key, as base64url JSON, and the one refusal a cursor gets.
import { Type } from 'typebox';
import { badRequest } from './errors.js';
import { isStorableText } from './plugins/security.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `cursor` query parameter of every list: what `nextCursor` said, nothing else. */
export const CursorParam = Type.String({
  minLength: 1,
  maxLength: 600,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'nextCursor of the previous page; a cursor this API did not issue is refused with 400 invalid_cursor',
});
export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: 'Pass as cursor for the next page; null on the last page',
});

/** The parts a cursor may hold: short text, a uuid, an instant or a positive integer id. */
export type CursorPart = 'text' | 'uuid' | 'instant' | 'id';

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

const fits: Record<CursorPart, (value: unknown) => boolean> = {
  // The cursor is opaque but client-held: a value Postgres cannot compare or store would fail the query.
  text: (v) => typeof v === 'string' && v.length <= 400 && isStorableText(v),
  uuid: (v) => typeof v === 'string' && UUID.test(v),
  instant: (v) =>
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(v) &&
    !Number.isNaN(Date.parse(v)),
  id: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0,
};

/** The cursor's parts, or a 400 `invalid_cursor` naming the field when it is not one this API returned. */
export function decodeCursor<P extends readonly CursorPart[]>(
  cursor: string,
  shape: P,
): { [K in keyof P]: P[K] extends 'id' ? number : string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (!Array.isArray(decoded) || decoded.length !== shape.length || !shape.every((part, i) => fits[part](decoded[i])))
    throw invalidCursor();
  return decoded as { [K in keyof P]: P[K] extends 'id' ? number : string };
}

export const invalidCursor = () =>
  badRequest('invalid_cursor', 'querystring/cursor is not a cursor this API returned; start again without it', [
    { field: '/querystring/cursor', message: 'is not a cursor this API returned' },
  ]);
