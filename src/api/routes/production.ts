// Production plans: an owner has a product baked at their location every so many minutes, as a Temporal Schedule per location and product.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { streams } from '../../events/log.js';
import {
  deleteProductionSchedule,
  describeProductionPlan,
  listProductionPlans,
  pauseProductionSchedule,
  productionScheduleId,
  putProductionSchedule,
} from '../../schedules.js';
import { ApiError, notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';

/** Once a day is the slowest plan that still makes sense; a bigger number is a mistake. */
export const MAX_PRODUCTION_EVERY_MINUTES = 24 * 60;
export const MAX_PRODUCTION_QUANTITY = 10_000;

const Params = Type.Object({ id: Uuid, productId: Uuid });
const PlanBody = Type.Object(
  {
    everyMinutes: Type.Integer({
      minimum: 1,
      maximum: MAX_PRODUCTION_EVERY_MINUTES,
      description: 'Minutes between production runs',
    }),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_PRODUCTION_QUANTITY, description: 'Units per run' }),
  },
  { additionalProperties: false },
);
const Plan = Type.Object({
  locationId: Uuid,
  productId: Uuid,
  everyMinutes: Type.Integer(),
  quantity: Type.Integer(),
  scheduleId: Type.String(),
});

const PlanView = Type.Object({
  ...Plan.properties,
  nextRunAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the next run starts; null while paused',
  }),
  lastRunAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the last run started; null before the first',
  }),
  paused: Type.Boolean(),
});

const productionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** Tells the location's live views that a plan changed; the Schedule is already changed, so this only follows it. */
  const announce = (locationId: string, productId: string) =>
    app.repos.events.append(streams.location(locationId), 'production.changed', { productId });

  app.get(
    '/v1/locations/:id/production',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['production'],
        summary: "The location's production plans: product, units per run, minutes between runs, next and last run",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid }),
        response: { 200: Type.Object({ plans: Type.Array(PlanView) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await assertManagesLocation(app, request.user!, request.params.id);
      return { plans: await listProductionPlans(app.temporal, request.params.id) };
    },
  );

  app.put(
    '/v1/locations/:id/production/:productId',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['production'],
        summary: 'Bake a product at the location every so many minutes; replaces the plan for that product',
        security: [{ bearer: [] }],
        params: Params,
        body: PlanBody,
        response: { 200: Plan, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id: locationId, productId } = request.params;
      // Someone else's location answers like a missing one, as the other owner routes do.
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
      if (!(await app.repos.catalog.productExists(productId))) {
        throw new ApiError(404, 'not_found', 'Product not found', [
          { field: '/params/productId', message: 'no such product' },
        ]);
      }
      const plan = { locationId, productId, everyMinutes: request.body.everyMinutes, quantity: request.body.quantity };
      await putProductionSchedule(app.temporal, app.config.temporal.taskQueue, plan);
      await announce(locationId, productId);
      return { ...plan, scheduleId: productionScheduleId(locationId, productId) };
    },
  );

  app.delete(
    '/v1/locations/:id/production/:productId',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['production'],
        summary: 'Stop producing a product at the location; lots already made keep their timers',
        security: [{ bearer: [] }],
        params: Params,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id: locationId, productId } = request.params;
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
      if (!(await deleteProductionSchedule(app.temporal, locationId, productId))) throw notFound('Production plan');
      await announce(locationId, productId);
      return reply.code(204).send(null);
    },
  );

  app.patch(
    '/v1/locations/:id/production/:productId',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['production'],
        summary: 'Pause a production plan (no runs until resumed) or resume it; lots already made keep their timers',
        security: [{ bearer: [] }],
        params: Params,
        body: Type.Object(
          { paused: Type.Boolean({ description: 'true pauses the plan, false resumes it' }) },
          { additionalProperties: false },
        ),
        response: { 200: PlanView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id: locationId, productId } = request.params;
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
      if (!(await pauseProductionSchedule(app.temporal, locationId, productId, request.body.paused))) {
        throw notFound('Production plan');
      }
      await announce(locationId, productId);
      const plan = await describeProductionPlan(app.temporal, locationId, productionScheduleId(locationId, productId));
      if (!plan) throw notFound('Production plan');
      return plan;
    },
  );
};

export default productionRoutes;
