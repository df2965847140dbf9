// Deliveries: owners assign drivers, drivers pick up and complete, through updates on the delivery workflow.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { assignUpdate, completeUpdate, pickupUpdate } from '../../../workflows/messages.js';
import { forbidden, notFound, unprocessable } from '../errors.js';
import { errorResponses, Uuid } from '../schemas.js';
import { DeliveryStatus } from '../../domain/vocabulary.js';
import { sendUpdate } from '../workflow-updates.js';

const Delivery = Type.Object({
  orderId: Uuid,
  locationId: Uuid,
  driverId: Type.Union([Uuid, Type.Null()]),
  status: DeliveryStatus,
  slotStartsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  address: Type.Object({ lat: Type.Number(), lng: Type.Number(), line1: Type.String() }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const DeliveryState = Type.Object({ orderId: Uuid, status: DeliveryStatus, driverId: Type.Union([Uuid, Type.Null()]) });
const IdParams = Type.Object({ id: Uuid });
const DEFAULT_PAGE_SIZE = 50;

const deliveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/deliveries',
    {
      onRequest: app.requireRole('owner', 'driver', 'operator'),
      schema: {
        tags: ['deliveries'],
        summary: "Deliveries of the owner's locations, or the driver's own",
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            status: Type.Optional(DeliveryStatus),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const user = request.user!;
      // A driver sees their own deliveries at the locations they still deliver for.
      const scope =
        user.role === 'owner'
          ? { locationIds: user.locationIds }
          : user.role === 'driver'
            ? { driverId: user.id, locationIds: user.locationIds }
            : {};
      return {
        deliveries: await app.repos.deliveries.list({
          ...scope,
          status: request.query.status,
          limit: request.query.limit ?? DEFAULT_PAGE_SIZE,
        }),
      };
    },
  );

  app.post(
    '/v1/deliveries/:id/assign',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['deliveries'],
        summary: 'Assign a driver to a prepped order',
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object({ driverId: Uuid }, { additionalProperties: false }),
        response: { 200: DeliveryState, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const delivery = await app.repos.deliveries.find(request.params.id);
      if (!delivery || !request.user!.locationIds.includes(delivery.locationId)) throw notFound('Delivery');
      if (!(await app.repos.staff.isDriverAt(request.body.driverId, delivery.locationId)))
        throw unprocessable('unknown_driver', `No driver ${request.body.driverId} delivers for this location`);
      return sendUpdate(app, 'delivery', request.params.id, assignUpdate, { driverId: request.body.driverId });
    },
  );

  for (const [action, update, summary] of [
    ['pickup', pickupUpdate, 'The assigned driver picks the order up'],
    ['complete', completeUpdate, 'The assigned driver hands the order over'],
  ] as const) {
    app.post(
      `/v1/deliveries/:id/${action}`,
      {
        onRequest: app.requireRole('driver'),
        schema: {
          tags: ['deliveries'],
          summary,
          security: [{ bearer: [] }],
          params: IdParams,
          response: { 200: DeliveryState, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        // Deliveries are staff business: a driver learns that another driver holds one (403, as the API table says),
        // and the workflow's validator decides both that and whether the step comes in order (409).
        const delivery = await app.repos.deliveries.find(request.params.id);
        if (!delivery) throw notFound('Delivery');
        if (!request.user!.locationIds.includes(delivery.locationId))
          throw forbidden('You do not deliver for this location');
        return sendUpdate(app, 'delivery', request.params.id, update, { driverId: request.user!.id });
      },
    );
  }
};

export default deliveryRoutes;
