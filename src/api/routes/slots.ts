// Delivery slots: the public view with remaining capacity, and the owner's weekly plan and adjustments.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Type } from 'typebox';
import { cutoffMovedSignal } from '../../../workflows/messages.js';
import { templateProblems } from '../../domain/slots.js';
import { SLOT_PLANNER_SCHEDULE_ID } from '../../schedules.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';
import { SlotStatus } from '../../domain/vocabulary.js';

const Time = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', examples: ['09:00'] });
const Template = Type.Object(
  {
    weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO weekday, 1 = Monday' }),
    start: Time,
    end: Time,
    capacity: Type.Integer({ minimum: 1, maximum: 10_000 }),
    cutoffMinutes: Type.Integer({ minimum: 0, maximum: 7 * 24 * 60 }),
  },
  { additionalProperties: false },
);
const Slot = Type.Object({
  id: Uuid,
  locationId: Uuid,
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  capacity: Type.Integer(),
  reserved: Type.Integer(),
  remaining: Type.Integer(),
  cutoffAt: Type.String({ format: 'date-time' }),
  status: SlotStatus,
});
const LocationParams = Type.Object({ id: Uuid });

const slotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/locations/:id/slots',
    {
      schema: {
        tags: ['slots'],
        summary: 'Slots of a location with capacity, remaining, cutoff and status',
        params: LocationParams,
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
            to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ slots: Type.Array(Slot) }), ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      if (!(await app.readRepos.locations.locationExists(request.params.id))) throw notFound('Location');
      const from = request.query.from ? new Date(request.query.from) : new Date();
      const to = request.query.to ? new Date(request.query.to) : new Date(from.getTime() + 7 * 86_400_000);
      if (to <= from)
        throw badRequest('validation_failed', 'to must be after from', [
          { field: '/querystring/to', message: 'must be after from' },
        ]);
      if (to.getTime() - from.getTime() > 31 * 86_400_000)
        throw badRequest('validation_failed', 'at most 31 days at once', [
          { field: '/querystring/to', message: 'at most 31 days after from' },
        ]);
      return { slots: await app.readRepos.slots.listBetween(request.params.id, from, to) };
    },
  );

  app.get(
    '/v1/locations/:id/slot-templates',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['slots'],
        summary: "The location's weekly slot plan, by weekday and start",
        security: [{ bearer: [] }],
        params: LocationParams,
        response: { 200: Type.Object({ templates: Type.Array(Template) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await assertManagesLocation(app, request.user!, request.params.id);
      return { templates: await app.repos.slots.templatesOf(request.params.id) };
    },
  );

  app.put(
    '/v1/locations/:id/slot-templates',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['slots'],
        summary: "Replace the location's weekly slot plan; slots for the coming days follow from it",
        security: [{ bearer: [] }],
        params: LocationParams,
        body: Type.Array(Template, { maxItems: 500 }),
        response: { 200: Type.Object({ templates: Type.Array(Template) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const locationId = request.params.id;
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
      const problems = templateProblems(request.body);
      if (problems.length > 0) {
        throw badRequest(
          'validation_failed',
          `body${problems[0]!.field} ${problems[0]!.message}`,
          problems.map((p) => ({ field: `/body${p.field}`, message: p.message })),
        );
      }
      await app.repos.slots.replaceTemplates(locationId, request.body);
      // New templates should not wait for the nightly run to become slots.
      await app.temporal.schedule
        .getHandle(SLOT_PLANNER_SCHEDULE_ID)
        .trigger()
        .catch((err: Error) => request.log.warn({ err }, 'could not trigger the slot planner'));
      return { templates: request.body };
    },
  );

  app.patch(
    '/v1/locations/:id/slots/:slotId',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['slots'],
        summary: "Change one slot's capacity or move its cutoff",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid, slotId: Uuid }),
        body: Type.Object(
          {
            capacity: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
            cutoffAt: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Slot, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { id: locationId, slotId } = request.params;
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Slot');
      const updated = await app.repos.slots.adjust(locationId, slotId, (slot) => {
        if (slot.status !== 'open') throw conflict('slot_closed', `The slot is ${slot.status}`);
        const { capacity, cutoffAt } = request.body;
        if (capacity !== undefined && capacity < slot.reserved) {
          throw badRequest('validation_failed', `capacity ${capacity} is below the ${slot.reserved} already reserved`, [
            { field: '/body/capacity', message: `must be at least ${slot.reserved}` },
          ]);
        }
        if (cutoffAt !== undefined && new Date(cutoffAt) > slot.startsAt) {
          throw badRequest('validation_failed', 'the cutoff cannot be after the slot starts', [
            { field: '/body/cutoffAt', message: 'must not be after startsAt' },
          ]);
        }
        return { capacity, cutoffAt: cutoffAt === undefined ? undefined : new Date(cutoffAt) };
      });
      if (!updated) throw notFound('Slot');
      if (request.body.cutoffAt !== undefined) {
        await app.temporal.workflow
          .getHandle(`slot-${slotId}`)
          .signal(cutoffMovedSignal)
          .catch((err: unknown) => {
            // A slot made outside the planner has no workflow; its cutoff still holds for new orders.
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }
      return updated;
    },
  );
};

export default slotRoutes;
