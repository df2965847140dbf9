// A location as anyone reads it and its owners change it, and its stock lots as its owners and operators read them
// back and throw out.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CursorParam, decodeCursor, encodeCursor, NextCursor } from '../cursor.js';
import { MAX_DELIVERY_RADIUS_M } from '../../domain/geo.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';
import { LocalTime, Lot, MAX_LOT_QUANTITY, ProductName, PublicLocation } from './catalog.js';

export const DEFAULT_LOT_PAGE = 20;
export const MAX_LOT_PAGE = 100;
/** A day: the longest a shop keeps a ready order or shows its number. */
const MAX_COLLECTION_MINUTES = 1440;

const IdParams = Type.Object({ id: Uuid });

const LocationSettings = Type.Object(
  {
    name: Type.Optional(ProductName),
    deliveryRadiusM: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_DELIVERY_RADIUS_M,
        description: 'The 1-hour delivery bound in metres; applies to availability and orders from now on',
      }),
    ),
    opensAt: Type.Optional(LocalTime),
    closesAt: Type.Optional(LocalTime),
  },
  { additionalProperties: false, minProperties: 1 },
);

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
      const location = await app.readRepos.locations.findLocation(request.params.id);
      if (!location) throw notFound('Location');
      const { ownerIds: _ownerIds, ...shown } = location;
      return shown;
    },
  );

  app.patch(
    '/v1/locations/:id',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['catalog'],
        summary: "Change a location's name, delivery radius or opening hours (local HH:MM; closing after opening)",
        security: [{ bearer: [] }],
        params: IdParams,
        body: LocationSettings,
        response: { 200: PublicLocation, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await assertManagesLocation(app, request.user!, request.params.id);
      const { name, ...rest } = request.body;
      const result = await locations.updateSettings(request.params.id, {
        ...rest,
        ...(name === undefined ? {} : { name: name.trim() }),
      });
      if (!result) throw notFound('Location');
      if (result.status === 'closes_before_opens') {
        const field = request.body.closesAt === undefined ? 'opensAt' : 'closesAt';
        throw badRequest(
          'validation_failed',
          `body/${field}: the location would close at ${result.closesAt}, not after it opens at ${result.opensAt}`,
          [{ field: `/body/${field}`, message: 'closesAt must be after opensAt' }],
        );
      }
      const { ownerIds: _ownerIds, ...shown } = result.location;
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
      const times = await app.readRepos.locations.findCollectionTimes(request.params.id);
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

  app.post(
    '/v1/locations/:id/stock/:lotId/discard',
    {
      onRequest: app.requireRole('owner', 'operator'),
      // A request without a body discards every unreserved unit, as `{}` does.
      preValidation: async (request: { body?: unknown }) => {
        request.body ??= {};
      },
      schema: {
        tags: ['catalog'],
        summary:
          "Throw out a lot's unreserved units: quantity of them, or all when left out; units orders hold stay theirs",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid, lotId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
        body: Type.Object(
          {
            quantity: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: MAX_LOT_QUANTITY,
                description: 'Units to throw out; left out: every unreserved unit',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Lot, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id: locationId, lotId } = request.params;
      await assertManagesLocation(app, request.user!, locationId);
      const quantity = request.body.quantity;
      const result = await stock.discardUnits({ locationId, lotId, quantity });
      switch (result.status) {
        case 'not_found':
          throw notFound('Lot');
        case 'reserved_units':
          throw conflict(
            'reserved_units',
            `quantity ${quantity} is more than the ${result.unreserved} unreserved units of lot ${lotId}; units reserved or sold for orders cannot be discarded`,
            { unreserved: result.unreserved },
          );
        case 'discarded':
          return result.lot;
      }
    },
  );
};

export default locationRoutes;
