// What a customer can get delivered to a point within the hour: the locations that reach it and the union of their fresh stock.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AvailabilityKey } from '../../db/repositories/availability.js';
import { badRequest } from '../errors.js';
import { isStorableText } from '../plugins/security.js';
import { Cents, errorResponses, Latitude, Longitude, Uuid } from '../schemas.js';
import { LocationKind } from '../../domain/vocabulary.js';

const MAX_SEARCH_WORDS = 8;
const DEFAULT_PAGE_SIZE = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PointQuery = {
  lat: Latitude,
  lng: Longitude,
};

const NearbyLocation = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: LocationKind,
  lat: Type.Number(),
  lng: Type.Number(),
  deliveryRadiusM: Type.Integer(),
  distanceM: Type.Integer(),
});

const AvailabilityItem = Type.Object({
  productId: Uuid,
  name: Type.String(),
  description: Type.String(),
  priceCents: Cents,
  discountedPriceCents: Cents,
  priceInEffectCents: Cents,
  available: Type.Integer(),
  discountedAvailable: Type.Integer(),
  locations: Type.Array(
    Type.Object({
      locationId: Uuid,
      name: Type.String(),
      distanceM: Type.Integer(),
      available: Type.Integer(),
      discountedAvailable: Type.Integer(),
      priceInEffectCents: Cents,
    }),
  ),
});

/** The cursor is the last product's sort key, opaque to clients: base64url of `[sortKey, productId]`. */
function encodeCursor(key: AvailabilityKey): string {
  return Buffer.from(JSON.stringify([key.sortKey, key.productId])).toString('base64url');
}

function decodeCursor(cursor: string): AvailabilityKey | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
    const [sortKey, productId] = decoded as unknown[];
    // The cursor is opaque but client-held: a sort key Postgres cannot compare would fail the query.
    if (
      typeof sortKey !== 'string' ||
      sortKey.length > 400 ||
      !isStorableText(sortKey) ||
      typeof productId !== 'string' ||
      !UUID.test(productId)
    )
      return undefined;
    return { sortKey, productId };
  } catch {
    return undefined;
  }
}

const availabilityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { availability } = app.repos;

  app.get(
    '/v1/locations',
    {
      schema: {
        tags: ['availability'],
        summary: 'Locations that deliver to a point within the hour, nearest first',
        querystring: Type.Object(PointQuery, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(NearbyLocation) }), ...errorResponses(400) },
      },
    },
    async (request) => ({ items: await availability.locationsDeliveringTo(request.query) }),
  );

  app.get(
    '/v1/availability',
    {
      schema: {
        tags: ['availability'],
        summary:
          'Products deliverable to a point within the hour: the union of nearby fresh stock, with the price in effect',
        querystring: Type.Object(
          {
            ...PointQuery,
            q: Type.Optional(
              Type.String({ maxLength: 100, description: 'Words that must all appear in the product name' }),
            ),
            // Optional in the document: validation fills in the default.
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: DEFAULT_PAGE_SIZE })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 600, pattern: '^[A-Za-z0-9_-]+$' })),
            deliverBy: Type.Optional(
              Type.String({
                format: 'date-time',
                maxLength: 40,
                description: 'Count only stock still fresh at this moment (default: now)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AvailabilityItem),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const { lat, lng, q, limit = DEFAULT_PAGE_SIZE, cursor, deliverBy } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && !after) throw badRequest('invalid_cursor', 'The cursor is not one this API returned');
      const words = (q ?? '').trim().split(/\s+/).filter(Boolean);
      if (words.length > MAX_SEARCH_WORDS)
        throw badRequest('too_many_words', `Search with at most ${MAX_SEARCH_WORDS} words`);
      const now = new Date();
      const freshAt = deliverBy === undefined ? now : new Date(Math.max(now.getTime(), Date.parse(deliverBy)));

      const page = await availability.availabilityPage({ point: { lat, lng }, freshAt, now, words, after, limit });
      return { items: page.items, nextCursor: page.hasMore && page.last ? encodeCursor(page.last) : null };
    },
  );
};

export default availabilityRoutes;
