// A location as anyone reads it, and its stock lots as its owners and operators read them back.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CursorParam, decodeCursor, encodeCursor, NextCursor } from '../cursor.js';
import { notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';
import { Lot, PublicLocation } from './catalog.js';

export const DEFAULT_LOT_PAGE = 20;
export const MAX_LOT_PAGE = 100;
/** A day: the longest a shop keeps a ready order or shows its number. */
const MAX_COLLECTION_MINUTES = 1440;

const IdParams = Type.Object({ id: Uuid });

const locationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { locations, stock } = app.repos;

  app.get(
    '/v1/locations/:id',
    {
      schema: {
        tags: ['catalog'],
        summary: 'A location: where it is, its kind, delivery radius, time zone and opening hours',
        params: IdParams,
        response: { 200: PublicLocation, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const location = await locations.findLocation(request.params.id);
      if (!location) throw notFound('Location');
      const { ownerIds: _ownerIds, ...shown } = location;
      return shown;
    },
  );

  // Shop policy, shown to customers before they order for collection: how long a ready order waits, and how long its
  // number stays on the board. A change applies to orders placed after it.
  const CollectionTimes = Type.Object({
    collectionWindowMinutes: Type.Integer({ minimum: 1, maximum: MAX_COLLECTION_MINUTES }),
    boardHoldMinutes: Type.Integer({ minimum: 1, maximum: MAX_COLLECTION_MINUTES }),
  });

  app.get(
    '/v1/locations/:id/collection',
    {
      schema: {
        tags: ['catalog'],
        summary: 'How long a ready collection order waits at the counter, and its number on the board, in minutes',
        params: IdParams,
        response: { 200: CollectionTimes, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const times = await locations.findCollectionTimes(request.params.id);
      if (!times) throw notFound('Location');
      return times;
    },
  );

  app.patch(
    '/v1/locations/:id/collection',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['catalog'],
        summary: 'Change the collection window or the board hold; orders placed from now on follow it',
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Partial(CollectionTimes, { additionalProperties: false, minProperties: 1 }),
        response: { 200: CollectionTimes, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await assertManagesLocation(app, request.user!, request.params.id);
      const times = await locations.updateCollectionTimes(request.params.id, request.body);
      if (!times) throw notFound('Location');
      return times;
    },
  );

  app.get(
    '/v1/locations/:id/stock',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['catalog'],
        summary:
          "The location's lots, newest first: produced and expiry times, units available, reserved, sold and discarded",
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object(
          {
            productId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LOT_PAGE, default: DEFAULT_LOT_PAGE })),
            cursor: Type.Optional(CursorParam),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Lot), nextCursor: NextCursor }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const locationId = request.params.id;
      const { productId, limit = DEFAULT_LOT_PAGE, cursor } = request.query;
      const afterId = cursor === undefined ? undefined : decodeCursor(cursor, ['id'] as const)[0];
      await assertManagesLocation(app, request.user!, locationId);
      const page = await stock.lotsAt({ locationId, productId, afterId, limit });
      return {
        items: page.items,
        nextCursor: page.nextAfterId === undefined ? null : encodeCursor([page.nextAfterId]),
      };
    },
  );
};

export default locationRoutes;
