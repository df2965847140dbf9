// Orders: placing one starts its workflow with update-with-start; reading one serves the read model.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { cancelUpdate, staffCancelUpdate, type OrderInput } from '../../../workflows/messages.js';
import type { OrderKey } from '../../db/repositories/order-history.js';
import { CursorParam, decodeCursor, encodeCursor, NextCursor } from '../cursor.js';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../errors.js';
import { IdempotencyHeaders, idempotencyKeyReused, requestDigest } from '../idempotency.js';
import { logOrderOf } from '../plugins/log-context.js';
import { collectOrder, prepOrder } from '../order-actions.js';
import { sendUpdate } from '../workflow-updates.js';
import { errorResponses, Latitude, Longitude, Uuid } from '../schemas.js';
import { Fulfilment, OrderStatus } from '../../domain/vocabulary.js';
import { collectionTimes, Order, OrderLines, OrderSummary, placeOrder, underAdmission } from '../order-placement.js';
import { canSeeOrder } from '../../domain/access.js';
import { deliversTo, haversineMeters } from '../../domain/geo.js';

export const DEFAULT_ORDER_PAGE = 20;
export const MAX_ORDER_PAGE = 100;

const OrderBody = Type.Object(
  {
    locationId: Uuid,
    slotId: Uuid,
    fulfilment: Type.Optional(Fulfilment),
    items: OrderLines,
    address: Type.Optional(
      Type.Object(
        {
          lat: Latitude,
          lng: Longitude,
          line1: Type.String({ minLength: 1, maxLength: 200 }),
        },
        { additionalProperties: false, description: 'Required for a delivery order, left out of a collection order' },
      ),
    ),
  },
  { additionalProperties: false },
);
type OrderBody = Static<typeof OrderBody>;

const IdParams = Type.Object({ id: Uuid });

const metres = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

function requestHash(body: OrderBody): string {
  // Key order and item order do not change what was asked for.
  return requestDigest({
    locationId: body.locationId,
    slotId: body.slotId,
    fulfilment: body.fulfilment ?? 'delivery',
    items: [...body.items].sort((a, b) => a.productId.localeCompare(b.productId)).map((i) => [i.productId, i.quantity]),
    address: body.address ? [body.address.lat, body.address.lng, body.address.line1] : null,
  });
}

const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/orders',
    {
      onRequest: app.requireRole('customer'),
      schema: {
        tags: ['orders'],
        summary:
          'Place an order for delivery (to an address) or collection (at the counter): returns once stock and slot are held, or refused',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: OrderBody,
        response: { 201: Order, ...errorResponses(400, 401, 403, 409, 422, 503) },
      },
    },
    async (request, reply) =>
      // Admitted before any lookup: past the peak a placement is turned away before it costs anything.
      underAdmission(app, request, async (permit) => {
        const customer = request.user!;
        const body = request.body;
        const productIds = body.items.map((i) => i.productId);
        if (new Set(productIds).size !== productIds.length) {
          throw badRequest(
            'duplicate_lines',
            'Each product may appear only once in items; add up the quantities instead',
          );
        }

        const fulfilment = body.fulfilment ?? 'delivery';
        const address = body.address ?? null;
        if (fulfilment === 'delivery' && !address)
          throw badRequest('address_required', 'address is required for a delivery order');
        if (fulfilment === 'collection' && address)
          throw badRequest('address_not_allowed', 'address must be left out of a collection order');

        const area = await app.repos.locations.findDeliveryArea(body.locationId);
        if (!area) throw unprocessable('unknown_location', `Location ${body.locationId} does not exist`);
        if (address && !deliversTo(area, address)) {
          // Rounded up, so an address just outside never reads as being at the radius.
          const distanceM = Math.ceil(haversineMeters(area, address));
          throw unprocessable(
            'outside_delivery_area',
            `The address is ${metres.format(distanceM)} m from location ${body.locationId}, which delivers only within ${metres.format(area.deliveryRadiusM)} m`,
            { distanceM, deliveryRadiusM: area.deliveryRadiusM },
          );
        }
        const slot = await app.repos.slots.find(body.slotId);
        if (!slot || slot.locationId !== body.locationId) {
          throw unprocessable('unknown_slot', `Slot ${body.slotId} is not a slot of location ${body.locationId}`);
        }
        const bankAccountId = await app.repos.users.bankAccountOf(customer.id);
        if (!bankAccountId)
          throw conflict('no_payment_method', 'Link a bank account before ordering (PUT /v1/me/bank-account)');
        const products = await app.repos.catalog.productsFor(productIds);
        const unknown = productIds.filter((id) => !products.has(id));
        if (unknown.length > 0) {
          throw unprocessable('unknown_product', `Unknown product: ${unknown.join(', ')}`, { productIds: unknown });
        }

        // The key is claimed only for a request that can be placed: a refused one must leave no row behind.
        let orderId: string = randomUUID();
        const key = request.headers['idempotency-key'];
        if (key) {
          const hash = requestHash(body);
          const claim = await app.repos.orders.claimIdempotencyKey(customer.id, key, hash, orderId);
          if (claim.requestHash !== hash) {
            throw idempotencyKeyReused();
          }
          orderId = claim.orderId;
          if (!claim.fresh) {
            logOrderOf(request, reply, orderId);
            const existing = await app.repos.orders.findView(orderId);
            if (existing && existing.status !== 'placed') {
              reply.header('idempotent-replayed', 'true');
              return reply.code(201).send(existing);
            }
          }
        }

        logOrderOf(request, reply, orderId);

        const input: OrderInput = {
          orderId,
          customerId: customer.id,
          locationId: body.locationId,
          slotId: body.slotId,
          slotStartsAt: slot.startsAt,
          slotEndsAt: slot.endsAt,
          bankAccountId,
          lines: body.items.map((i) => ({
            productId: i.productId,
            quantity: i.quantity,
            unitPriceCents: products.get(i.productId)!.priceCents,
          })),
          address,
          paymentTimeoutMs: app.config.paymentTimeoutMs,
          fulfilment,
          ...(fulfilment === 'collection' ? { collection: await collectionTimes(app, body.locationId) } : {}),
        };
        const view = await placeOrder(app, request, input, products, permit);
        return reply.code(201).send(view);
      }),
  );

  app.get(
    '/v1/orders',
    {
      // Drivers follow their deliveries through GET /v1/deliveries; an order history is not theirs to read.
      onRequest: app.requireRole('customer', 'owner', 'operator'),
      schema: {
        tags: ['orders'],
        summary:
          "Order history, newest first: a customer's own orders, an owner's locations' orders, every order for operators",
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(OrderStatus),
            locationId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ORDER_PAGE, default: DEFAULT_ORDER_PAGE })),
            cursor: Type.Optional(CursorParam),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(OrderSummary), nextCursor: NextCursor }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const user = request.user!;
      const { status, locationId, limit = DEFAULT_ORDER_PAGE, cursor } = request.query;
      let after: OrderKey | undefined;
      if (cursor !== undefined) {
        const [createdAt, orderId] = decodeCursor(cursor, ['instant', 'uuid'] as const);
        after = { createdAt, orderId };
      }
      const scope =
        user.role === 'customer'
          ? { customerId: user.id }
          : user.role === 'owner'
            ? { locationIds: user.locationIds }
            : {};
      const page = await app.repos.orderHistory.page({ ...scope, status, locationId, after, limit });
      return {
        items: page.items,
        nextCursor: page.next ? encodeCursor([page.next.createdAt, page.next.orderId]) : null,
      };
    },
  );

  app.get(
    '/v1/orders/:id',
    {
      onRequest: app.requireRole('customer', 'owner', 'driver', 'operator'),
      schema: {
        tags: ['orders'],
        summary: 'An order with its lines and timeline',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Order, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const ownership = await app.repos.orders.findOwnership(request.params.id);
      // Someone else's order answers exactly like a missing one, so ids cannot be probed.
      if (!ownership || !canSeeOrder(request.user!, ownership)) throw notFound('Order');
      const view = await app.repos.orders.findView(request.params.id);
      if (!view) throw notFound('Order');
      return view;
    },
  );

  app.post(
    '/v1/orders/:id/cancel',
    {
      onRequest: app.requireRole('customer', 'owner'),
      schema: {
        tags: ['orders'],
        summary:
          'Cancel an order before prep starts: its customer, or the staff of its location for a counter or collection order; stock and slot are given back and a captured charge is refunded',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Order, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const user = request.user!;
      const ownership = await app.repos.orders.findOwnership(request.params.id);
      const mine =
        user.role === 'customer'
          ? ownership?.customerId === user.id
          : ownership !== undefined && user.locationIds.includes(ownership.locationId);
      if (!ownership || !mine) throw notFound('Order');
      // A delivery order is its customer's to cancel; the shop cancels the orders placed with it for the counter.
      if (user.role === 'owner' && ownership.fulfilment !== 'collection') {
        throw forbidden(
          'Staff may cancel counter and collection orders; a delivery order is cancelled by its customer',
        );
      }
      if (user.role === 'owner') {
        await sendUpdate(app, 'order', request.params.id, staffCancelUpdate, { by: 'staff' });
      } else {
        await sendUpdate(app, 'order', request.params.id, cancelUpdate);
      }
      return (await app.repos.orders.findView(request.params.id))!;
    },
  );

  app.post(
    '/v1/orders/:id/prep',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['orders'],
        summary: 'The shop moves a paid order to prepping, then prepped',
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object(
          { status: Type.Enum(['prepping', 'prepped'] as const satisfies readonly OrderStatus[]) },
          { additionalProperties: false },
        ),
        response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const ownership = await app.repos.orders.findOwnership(request.params.id);
      if (!ownership || !request.user!.locationIds.includes(ownership.locationId)) throw notFound('Order');
      return prepOrder(app, request.params.id, request.body.status);
    },
  );

  app.post(
    '/v1/orders/:id/collect',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['orders'],
        summary: 'The shop hands a collection order that is ready to its customer: the order is completed',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Order, ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const ownership = await app.repos.orders.findOwnership(request.params.id);
      if (!ownership || !request.user!.locationIds.includes(ownership.locationId)) throw notFound('Order');
      return collectOrder(app, request.params.id);
    },
  );
};

export default orderRoutes;
