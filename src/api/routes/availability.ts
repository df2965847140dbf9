// What a customer can get delivered to a point within the hour: the locations that reach it and the union of their fresh stock.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AvailabilityKey } from '../../db/repositories/availability.js';
import { badRequest } from '../errors.js';
import { isStorableText } from '../plugins/security.js';
import { Cents, errorResponses, Latitude, Longitude, Uuid } from '../schemas.js';
import {
  AvailabilitySort,
  LocationKind,
  PRODUCT_TAGS,
  ProductTag,
  type AvailabilitySort as Sort,
} from '../../domain/vocabulary.js';
import { MAX_PRICE_CENTS } from './catalog.js';

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

const Facets = Type.Object({
  categories: Type.Array(Type.Object({ id: Uuid, name: Type.String(), count: Type.Integer() })),
  tags: Type.Array(Type.Object({ tag: ProductTag, count: Type.Integer() })),
});

/**
 * The cursor is the last product's place in the sort, opaque to clients: base64url of `[sortKey, productId]` in name
 * order, of `[sort, price or distance, sortKey, productId]` in the others. A cursor only continues the sort it came from.
 */
function encodeCursor(sort: Sort, key: AvailabilityKey): string {
  const place = sort === 'name' ? [key.sortKey, key.productId] : [sort, key.lead, key.sortKey, key.productId];
  return Buffer.from(JSON.stringify(place)).toString('base64url');
}

function decodeCursor(sort: Sort, cursor: string): AvailabilityKey | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || decoded.length !== (sort === 'name' ? 2 : 4)) return undefined;
    const [sortKey, productId] = (decoded as unknown[]).slice(-2);
    let lead: number | undefined;
    if (sort !== 'name') {
      const [cursorSort, cursorLead] = decoded as unknown[];
      if (cursorSort !== sort || typeof cursorLead !== 'number' || !Number.isFinite(cursorLead) || cursorLead < 0)
        return undefined;
      lead = cursorLead;
    }
    // The cursor is opaque but client-held: a sort key Postgres cannot compare would fail the query.
    if (
      typeof sortKey !== 'string' ||
      sortKey.length > 400 ||
      !isStorableText(sortKey) ||
      typeof productId !== 'string' ||
      !UUID.test(productId)
    )
      return undefined;
    return { ...(lead === undefined ? {} : { lead }), sortKey, productId };
  } catch {
    return undefined;
  }
}

const availabilityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { availability } = app.readRepos;

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
      // Tags come as a comma list, repeated, or both: validation sees one list.
      preValidation: async (request) => {
        const query = request.query as { tags?: unknown };
        if (typeof query.tags === 'string' || Array.isArray(query.tags))
          query.tags = [query.tags].flat().flatMap((t) => (typeof t === 'string' ? t.split(',') : [t]));
      },
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
            category: Type.Optional(Type.String({ format: 'uuid', maxLength: 36, description: 'Only this category' })),
            tags: Type.Optional(
              Type.Array(ProductTag, {
                maxItems: PRODUCT_TAGS.length,
                description: 'Only products with every one of these tags: a comma list, or the parameter repeated',
              }),
            ),
            maxPriceCents: Type.Optional(
              Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, description: 'Only products listed at most this' }),
            ),
            sort: Type.Optional(AvailabilitySort),
            facets: Type.Optional(
              Type.Boolean({
                description:
                  'Also count products per category and tag (it reads every nearby lot, so ask once per place and search)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(AvailabilityItem),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
            facets: Type.Optional(
              Type.Object(Facets.properties, {
                description:
                  'With facets=true: products per category and tag over the whole result before category, tags and price',
              }),
            ),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const {
        lat,
        lng,
        q,
        limit = DEFAULT_PAGE_SIZE,
        cursor,
        deliverBy,
        category,
        tags,
        maxPriceCents,
      } = request.query;
      const sort = request.query.sort ?? 'name';
      const after = cursor === undefined ? undefined : decodeCursor(sort, cursor);
      if (cursor !== undefined && !after) throw badRequest('invalid_cursor', 'The cursor is not one this API returned');
      const words = (q ?? '').trim().split(/\s+/).filter(Boolean);
      if (words.length > MAX_SEARCH_WORDS)
        throw badRequest('too_many_words', `Search with at most ${MAX_SEARCH_WORDS} words`);
      const now = new Date();
      const freshAt = deliverBy === undefined ? now : new Date(Math.max(now.getTime(), Date.parse(deliverBy)));

      const page = await availability.availabilityPage({
        point: { lat, lng },
        freshAt,
        now,
        words,
        filter: { categoryId: category, tags: [...new Set(tags)], maxPriceCents },
        sort,
        after,
        limit,
        facets: request.query.facets === true,
      });
      return {
        items: page.items,
        nextCursor: page.hasMore && page.last ? encodeCursor(sort, page.last) : null,
        ...(page.facets ? { facets: page.facets } : {}),
      };
    },
  );
};

export default availabilityRoutes;
