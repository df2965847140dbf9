// Counter orders: the shop takes an order for collection from someone at its counter, paid there. It has no customer
// account and asks nothing of the bank; otherwise it is an order like any other (stock, prep, board, collect).
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { OrderInput } from '../../../workflows/messages.js';
import { badRequest, notFound, unprocessable } from '../errors.js';
import { IdempotencyHeaders, idempotencyKeyReused, requestDigest } from '../idempotency.js';
import { collectionTimes, Order, OrderLines, placeOrder, underAdmission } from '../order-placement.js';
import { logOrderOf } from '../plugins/log-context.js';
import { errorResponses, Uuid } from '../schemas.js';

const CounterOrderBody = Type.Object(
  {
    items: OrderLines,
    label: Type.Optional(
      Type.String({ minLength: 1, maxLength: 60, description: 'What to call the customer when it is ready' }),
    ),
    slotId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const counterOrderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/locations/:id/counter-orders',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['orders'],
        summary:
          "Take a collection order paid at the counter: confirmed at once; with a slot it takes that slot's capacity, without one none",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid }),
        headers: IdempotencyHeaders,
        body: CounterOrderBody,
        response: { 201: Order, ...errorResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    },
    async (request, reply) =>
      // Admitted before any lookup: past the peak a placement is turned away before it costs anything.
      underAdmission(app, request, async (permit) => {
        const locationId = request.params.id;
        // Another shop's counter answers like a missing location, so ids cannot be probed.
        if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
        const body = request.body;
        const productIds = body.items.map((i) => i.productId);
        if (new Set(productIds).size !== productIds.length) {
          throw badRequest(
            'duplicate_lines',
            'Each product may appear only once in items; add up the quantities instead',
          );
        }
        const slot = body.slotId === undefined ? undefined : await app.repos.slots.find(body.slotId);
        if (body.slotId !== undefined && (!slot || slot.locationId !== locationId)) {
          throw unprocessable('unknown_slot', `Slot ${body.slotId} is not a slot of location ${locationId}`);
        }
        const products = await app.repos.catalog.productsFor(productIds);
        const unknown = productIds.filter((id) => !products.has(id));
        if (unknown.length > 0) {
          throw unprocessable('unknown_product', `Unknown product: ${unknown.join(', ')}`, { productIds: unknown });
        }

        const collection = await collectionTimes(app, locationId);
        // Keys are the staff member's own, as a customer's are theirs.
        let orderId: string = randomUUID();
        const key = request.headers['idempotency-key'];
        if (key) {
          const hash = requestDigest({
            counterAt: locationId,
            slotId: body.slotId ?? null,
            label: body.label ?? null,
            items: [...body.items]
              .sort((a, b) => a.productId.localeCompare(b.productId))
              .map((i) => [i.productId, i.quantity]),
          });
          const claim = await app.repos.orders.claimIdempotencyKey(request.user!.id, key, hash, orderId);
          if (claim.requestHash !== hash) throw idempotencyKeyReused();
          orderId = claim.orderId;
          if (!claim.fresh) {
            const existing = await app.repos.orders.findView(orderId);
            if (existing && existing.status !== 'placed') {
              logOrderOf(request, reply, orderId);
              reply.header('idempotent-replayed', 'true');
              return reply.code(201).send(existing);
            }
          }
        }
        logOrderOf(request, reply, orderId);
        const input: OrderInput = {
          orderId,
          customerId: null,
          locationId,
          slotId: slot?.id ?? null,
          slotStartsAt: slot?.startsAt ?? null,
          // Without a slot, the food must stay fresh until the collection window would close.
          slotEndsAt: slot?.endsAt ?? new Date(Date.now() + (collection?.windowMs ?? 0)).toISOString(),
          bankAccountId: null,
          lines: body.items.map((i) => ({
            productId: i.productId,
            quantity: i.quantity,
            unitPriceCents: products.get(i.productId)!.priceCents,
          })),
          address: null,
          paymentTimeoutMs: app.config.paymentTimeoutMs,
          fulfilment: 'collection',
          collection,
          label: body.label ?? null,
        };
        return reply.code(201).send(await placeOrder(app, request, input, products, permit));
      }),
  );
};

export default counterOrderRoutes;
