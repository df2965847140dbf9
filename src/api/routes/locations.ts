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
