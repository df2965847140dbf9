// The catalog: operators and owners create products, operators create locations, owners receive stock lots at their locations.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Type, type Static } from 'typebox';
import { lotSummary } from '../../../workflows/details.js';
import type { lotWorkflow } from '../../../workflows/lot.js';
import { MAX_DELIVERY_RADIUS_M } from '../../domain/geo.js';
import { forbidden, notFound, unprocessable } from '../errors.js';
import { IdempotencyHeaders, idempotencyKeyReused, requestDigest } from '../idempotency.js';
import { Cents, errorResponses, Latitude, Longitude, Uuid } from '../schemas.js';
import { LocationKind, ProductTag } from '../../domain/vocabulary.js';

/** One delivery or production run; a bigger number is a typing mistake, not a lot. */
export const MAX_LOT_QUANTITY = 100_000;
export const MAX_PRICE_CENTS = 1_000_000;
/** Clocks differ a little; a lot "produced" further in the future than this is a mistake. */
const CLOCK_SKEW_MS = 60_000;
export const MAX_SHELF_LIFE_MINUTES = 366 * 24 * 60;

export const ProductName = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
export const Timestamp = Type.String({ format: 'date-time', maxLength: 40 });
/** A product's tags: each from the vocabulary, once. */
export const ProductTags = Type.Array(ProductTag, { maxItems: 7, uniqueItems: true });
/** The category a product is in; null for none. */
export const CategoryId = Type.Union([Uuid, Type.Null()], { description: 'A category from GET /v1/categories' });
export const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', examples: ['07:30'] });

const ProductBody = Type.Object(
  {
    name: ProductName,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    priceCents: Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS }),
    shelfLifeMinutes: Type.Integer({ minimum: 1, maximum: MAX_SHELF_LIFE_MINUTES }),
    eodDiscountPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    categoryId: Type.Optional(CategoryId),
    tags: Type.Optional(ProductTags),
  },
  { additionalProperties: false },
);

export const Product = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  priceCents: Cents,
  shelfLifeMinutes: Type.Integer(),
  eodDiscountPercent: Type.Integer(),
  category: Type.Union([Type.Object({ id: Uuid, name: Type.String() }), Type.Null()]),
  tags: Type.Array(ProductTag),
  createdAt: Timestamp,
});

/** The answer to a product naming a category that does not exist. */
export const unknownCategory = (categoryId: string) =>
  unprocessable('unknown_category', `categoryId: category ${categoryId} does not exist`);

const LocationBody = Type.Object(
  {
    name: ProductName,
    kind: LocationKind,
    lat: Latitude,
    lng: Longitude,
    /** The 1-hour delivery bound, as the distance a courier covers in that hour. */
    deliveryRadiusM: Type.Integer({ minimum: 1, maximum: MAX_DELIVERY_RADIUS_M }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['Europe/London'] })),
    opensAt: Type.Optional(LocalTime),
    closesAt: Type.Optional(LocalTime),
    ownerIds: Type.Optional(Type.Array(Uuid, { maxItems: 20, uniqueItems: true })),
  },
  { additionalProperties: false },
);

/** What anyone may know of a location: where it is, how far it delivers and its hours (its owners stay private). */
export const PublicLocation = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: LocationKind,
  lat: Type.Number(),
  lng: Type.Number(),
  deliveryRadiusM: Type.Integer(),
  timezone: Type.String(),
  opensAt: Type.String({ description: 'Local wall-clock time, HH:MM' }),
  closesAt: Type.String({ description: 'Local wall-clock time, HH:MM' }),
  createdAt: Timestamp,
});

/** A location as its owners and operators see it: with who runs it. */
const Location = Type.Object({ ...PublicLocation.properties, ownerIds: Type.Array(Uuid) });

const StockBody = Type.Object(
  {
    productId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: MAX_LOT_QUANTITY }),
    producedAt: Type.Optional(Timestamp),
    expiresAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
type StockBody = Static<typeof StockBody>;

/** What a stock request asks for: the same lot at the same location, however its times are spelled. */
function stockRequestHash(locationId: string, body: StockBody): string {
  const instant = (at: string | undefined) => (at === undefined ? null : new Date(at).toISOString());
  return requestDigest({
    locationId,
    productId: body.productId,
    quantity: body.quantity,
    producedAt: instant(body.producedAt),
    expiresAt: instant(body.expiresAt),
  });
}

export const Lot = Type.Object({
  id: Type.Integer(),
  locationId: Uuid,
  productId: Uuid,
  quantity: Type.Integer(),
  available: Type.Integer(),
  reserved: Type.Integer(),
  sold: Type.Integer(),
  discarded: Type.Integer(),
  producedAt: Timestamp,
  expiresAt: Timestamp,
  discountFrom: Type.Union([Timestamp, Type.Null()]),
});

const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog, locations, stock } = app.repos;

  app.post(
    '/v1/products',
    {
      onRequest: app.requireRole('operator', 'owner'),
      schema: {
        tags: ['catalog'],
        summary: 'Add a product to the catalog',
        security: [{ bearer: [] }],
        body: ProductBody,
        response: { 201: Product, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const product = await catalog.createProduct({
        name: body.name.trim(),
        description: body.description ?? '',
        priceCents: body.priceCents,
        shelfLifeMinutes: body.shelfLifeMinutes,
        eodDiscountPercent: body.eodDiscountPercent ?? 0,
        categoryId: body.categoryId ?? null,
        tags: body.tags ?? [],
      });
      if (product === 'unknown_category') throw unknownCategory(body.categoryId!);
      return reply.code(201).send(product);
    },
  );

  app.post(
    '/v1/locations',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['catalog'],
        summary: 'Open a location (bakery, kitchen or distribution centre) with its 1-hour delivery radius',
        security: [{ bearer: [] }],
        body: LocationBody,
        response: { 201: Location, ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const timezone = body.timezone ?? 'UTC';
      if (!(await locations.isKnownTimezone(timezone))) {
        throw unprocessable('unknown_timezone', `"${timezone}" is not a known IANA time zone`);
      }
      const ownerIds = body.ownerIds ?? [];
      const owners = await locations.ownersAmong(ownerIds);
      const notOwners = ownerIds.filter((id) => !owners.has(id));
      if (notOwners.length > 0) {
        throw unprocessable('unknown_owner', `Not an owner: ${notOwners.join(', ')}`, { userIds: notOwners });
      }
      const location = await locations.createLocation({
        name: body.name.trim(),
        kind: body.kind,
        lat: body.lat,
        lng: body.lng,
        deliveryRadiusM: body.deliveryRadiusM,
        timezone,
        opensAt: body.opensAt ?? '00:00',
        closesAt: body.closesAt ?? '23:59',
        ownerIds,
      });
      return reply.code(201).send(location);
    },
  );

  app.post(
    '/v1/locations/:id/stock',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['catalog'],
        summary: 'Receive a lot (one production run or delivery) of a product at a location',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid }),
        headers: IdempotencyHeaders,
        body: StockBody,
        response: { 201: Lot, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      const locationId = request.params.id;
      if (user.role === 'owner' && !user.locationIds.includes(locationId)) {
        throw forbidden('Only the owners of this location may receive stock here');
      }
      const now = new Date();
      const producedAt = request.body.producedAt === undefined ? undefined : new Date(request.body.producedAt);
      const expiresAt = request.body.expiresAt === undefined ? undefined : new Date(request.body.expiresAt);
      if (producedAt && producedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) {
        throw unprocessable('produced_in_future', 'producedAt is in the future: receive a lot once it exists');
      }
      if (expiresAt && expiresAt.getTime() > now.getTime() + MAX_SHELF_LIFE_MINUTES * 60_000) {
        throw unprocessable('expiry_too_far', 'expiresAt is more than a year away');
      }
      const lotInput = {
        locationId,
        productId: request.body.productId,
        quantity: request.body.quantity,
        producedAt,
        expiresAt,
      };
      const key = request.headers['idempotency-key'];
      const result =
        key === undefined
          ? await stock.receiveLot(lotInput, now)
          : await stock.receiveLotOnce(
              { userId: user.id, key, requestHash: stockRequestHash(locationId, request.body) },
              lotInput,
              now,
            );
      switch (result.status) {
        case 'received':
        case 'replayed': {
          const { lot } = result;
          if (result.status === 'replayed') reply.header('idempotent-replayed', 'true');
          // The lot's discount and expiry timers. The stock is already received, so a Temporal outage must not fail the
          // request: the 15-minute stale sweep discards the lot if its timer never starts. A replay starts them too, in
          // case the first request stopped short of it; one that already runs or ran is left alone.
          await app.temporal.workflow
            .start<typeof lotWorkflow>('lotWorkflow', {
              workflowId: `lot-${lot.id}`,
              taskQueue: app.config.temporal.taskQueue,
              args: [{ lotId: lot.id, discountAt: lot.discountFrom, expiresAt: lot.expiresAt }],
              staticSummary: lotSummary({ lotId: lot.id, discountAt: lot.discountFrom, expiresAt: lot.expiresAt }),
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            })
            .catch((err: unknown) => {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError))
                request.log.warn({ err, lotId: lot.id }, 'could not start the lot workflow');
            });
          return reply.code(201).send(lot);
        }
        case 'idempotency_key_reused':
          throw idempotencyKeyReused();
        case 'unknown_location':
          throw notFound('Location');
        case 'unknown_product':
          throw unprocessable('unknown_product', `Product ${request.body.productId} does not exist`);
        case 'already_expired':
          throw unprocessable('already_expired', `This lot expired at ${result.expiresAt}; there is nothing to sell`);
        case 'expires_before_produced':
          throw unprocessable('expires_before_produced', 'expiresAt must be after producedAt');
      }
    },
  );
};

export default catalogRoutes;
