// A location's outgoing webhooks: its owners add receivers for the event types they want, rotate the signing secret,
// send a test event, and read each delivery with its attempts (operators may read too). Delivery itself is the
// worker's (workflows/webhook-delivery.ts); these routes only write, and the commit wakes the endpoint's workflow.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { MAX_WEBHOOK_ENDPOINTS } from '../../db/repositories/webhook-endpoints.js';
import { webhookUrlProblem } from '../../domain/webhooks.js';
import { WebhookDeliveryStatus, WebhookDisabledReason, WebhookEventType } from '../../domain/vocabulary.js';
import { CursorParam, NextCursor, decodeCursor, encodeCursor } from '../cursor.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'Where deliveries are POSTed: https (http too in development)',
});
const Events = Type.Array(WebhookEventType, {
  minItems: 1,
  maxItems: 64,
  description: 'The event types this endpoint receives',
});
const Description = Type.String({ maxLength: 200 });
const Endpoint = Type.Object({
  id: Uuid,
  locationId: Uuid,
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(WebhookEventType),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([WebhookDisabledReason, Type.Null()], {
    description: 'owner: turned off; gone: the receiver answered 410; failing: deliveries failed for 24 h',
  }),
  disabledAt: NullableTimestamp,
  previousSecretExpiresAt: Type.Union([Timestamp, Type.Null()], {
    description: 'Until then the previous secret signs too, beside the current one',
  }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
const WithSecret = Type.Object({
  ...Endpoint.properties,
  secret: Type.String({ description: 'The signing secret (Standard Webhooks, whsec_…): shown only now' }),
});
const Attempt = Type.Object({
  at: Timestamp,
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
});
const Delivery = Type.Object({
  id: Type.String({ pattern: '^[0-9]+$' }),
  webhookId: Type.String({ description: 'The webhook-id header: the same on every attempt and replay' }),
  eventId: Type.Union([Type.String(), Type.Null()], { description: "The event log's id; null for a test event" }),
  type: WebhookEventType,
  status: WebhookDeliveryStatus,
  occurredAt: Timestamp,
  createdAt: Timestamp,
  nextAttemptAt: NullableTimestamp,
  deliveredAt: NullableTimestamp,
  attempts: Type.Array(Attempt),
});
const LocationParams = Type.Object({ id: Uuid });
const EndpointParams = Type.Object({ id: Uuid, webhookId: Uuid });
const DeliveryParams = Type.Object({
  id: Uuid,
  webhookId: Uuid,
  deliveryId: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }),
});
const DEFAULT_PAGE_SIZE = 50;

/** A fresh signing secret in the Standard Webhooks form: whsec_ and 24 random bytes in base64. */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

const webhookEndpointRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const owners = app.requireRole('owner');
  const readers = app.requireRole('owner', 'operator');
  const { secretOverlapMs } = app.config.webhooks;
  const managed = (request: FastifyRequest, locationId: string) =>
    assertManagesLocation(app, request.user!, locationId);

  function checkUrl(url: string): void {
    const problem = webhookUrlProblem(url, app.config.webhooks.allowPrivateNetworks);
    if (problem) throw unprocessable('invalid_url', `body/url ${problem}`, [{ field: '/body/url', message: problem }]);
  }

  async function endpointOf(locationId: string, endpointId: string) {
    const endpoint = await app.repos.webhookEndpoints.find(locationId, endpointId);
    if (!endpoint) throw notFound('Webhook endpoint');
    return endpoint;
  }

  app.post(
    '/v1/locations/:id/webhooks',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook endpoint: the chosen events are POSTed to it, signed by the Standard Webhooks spec',
        security: [{ bearer: [] }],
        params: LocationParams,
        body: Type.Object(
          { url: Url, events: Events, description: Type.Optional(Description) },
          { additionalProperties: false },
        ),
        response: { 201: WithSecret, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const locationId = request.params.id;
      await managed(request, locationId);
      checkUrl(request.body.url);
      if ((await app.repos.webhookEndpoints.count(locationId)) >= MAX_WEBHOOK_ENDPOINTS)
        throw conflict('webhook_limit', `A location has at most ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints`);
      const secret = newSecret();
      const endpoint = await app.repos.webhookEndpoints.create({ locationId, ...request.body, secret });
      return reply.code(201).send({ ...endpoint, secret });
    },
  );

  app.get(
    '/v1/locations/:id/webhooks',
    {
      onRequest: readers,
      schema: {
        tags: ['webhooks'],
        summary: `The location's webhook endpoints (at most ${MAX_WEBHOOK_ENDPOINTS}), without their secrets`,
        security: [{ bearer: [] }],
        params: LocationParams,
        response: { 200: Type.Object({ webhooks: Type.Array(Endpoint) }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await managed(request, request.params.id);
      return { webhooks: await app.repos.webhookEndpoints.list(request.params.id) };
    },
  );

  app.patch(
    '/v1/locations/:id/webhooks/:webhookId',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: 'Change the URL, the events, the description, or turn it off and on (on again resends what waited)',
        security: [{ bearer: [] }],
        params: EndpointParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            events: Type.Optional(Events),
            enabled: Type.Optional(Type.Boolean()),
            description: Type.Optional(Type.Union([Description, Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Endpoint, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { id: locationId, webhookId } = request.params;
      await managed(request, locationId);
      if (request.body.url !== undefined) checkUrl(request.body.url);
      const before = await endpointOf(locationId, webhookId);
      return app.repos.transaction(async (tx) => {
        const endpoint = await tx.webhookEndpoints.update(locationId, webhookId, request.body);
        if (!endpoint) throw notFound('Webhook endpoint');
        if (endpoint.enabled && !before.enabled) await tx.webhookDeliveries.resumeWaiting(webhookId);
        return endpoint;
      });
    },
  );

  app.delete(
    '/v1/locations/:id/webhooks/:webhookId',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: 'Remove a webhook endpoint with its delivery log; nothing more is sent to it',
        security: [{ bearer: [] }],
        params: EndpointParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await managed(request, request.params.id);
      if (!(await app.repos.webhookEndpoints.remove(request.params.id, request.params.webhookId)))
        throw notFound('Webhook endpoint');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/locations/:id/webhooks/:webhookId/secret',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: `Rotate the signing secret: the new one is shown once; the old one keeps signing beside it for ${Math.round(secretOverlapMs / 3_600_000)} h`,
        security: [{ bearer: [] }],
        params: EndpointParams,
        response: { 200: WithSecret, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await managed(request, request.params.id);
      const secret = newSecret();
      const endpoint = await app.repos.webhookEndpoints.rotateSecret(
        request.params.id,
        request.params.webhookId,
        secret,
        new Date(Date.now() + secretOverlapMs),
      );
      if (!endpoint) throw notFound('Webhook endpoint');
      return { ...endpoint, secret };
    },
  );

  app.post(
    '/v1/locations/:id/webhooks/:webhookId/test',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: 'Send a webhook.test event to this endpoint now; its delivery shows in the log like any other',
        security: [{ bearer: [] }],
        params: EndpointParams,
        response: { 202: Type.Object({ deliveryId: Type.String() }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { id: locationId, webhookId } = request.params;
      await managed(request, locationId);
      const endpoint = await endpointOf(locationId, webhookId);
      if (!endpoint.enabled) throw conflict('endpoint_disabled', 'This endpoint is disabled; enable it to send to it');
      const delivery = await app.repos.webhookDeliveries.enqueueTest(webhookId, {
        endpointId: webhookId,
        locationId,
        message: 'A test event from the owner page',
      });
      return reply.code(202).send({ deliveryId: delivery.id });
    },
  );

  app.get(
    '/v1/locations/:id/webhooks/:webhookId/deliveries',
    {
      onRequest: readers,
      schema: {
        tags: ['webhooks'],
        summary: "The endpoint's deliveries, newest first, each with its attempts (time, status code, latency, error)",
        security: [{ bearer: [] }],
        params: EndpointParams,
        querystring: Type.Object(
          {
            status: Type.Optional(WebhookDeliveryStatus),
            cursor: Type.Optional(CursorParam),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: DEFAULT_PAGE_SIZE })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ deliveries: Type.Array(Delivery), nextCursor: NextCursor }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { id: locationId, webhookId } = request.params;
      await managed(request, locationId);
      await endpointOf(locationId, webhookId);
      const limit = request.query.limit ?? DEFAULT_PAGE_SIZE;
      const beforeId = request.query.cursor ? decodeCursor(request.query.cursor, ['id'] as const)[0] : undefined;
      const deliveries = await app.repos.webhookDeliveries.list(webhookId, {
        status: request.query.status,
        beforeId,
        limit,
      });
      const last = deliveries.at(-1);
      return {
        deliveries,
        nextCursor: deliveries.length === limit && last ? encodeCursor([Number(last.id)]) : null,
      };
    },
  );

  app.post(
    '/v1/locations/:id/webhooks/:webhookId/deliveries/:deliveryId/retry',
    {
      onRequest: owners,
      schema: {
        tags: ['webhooks'],
        summary: 'Send one delivery again now, with the same webhook-id (a failed one gets a new retry window)',
        security: [{ bearer: [] }],
        params: DeliveryParams,
        response: {
          202: Type.Object({ id: Type.String(), status: WebhookDeliveryStatus }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { id: locationId, webhookId, deliveryId } = request.params;
      await managed(request, locationId);
      const endpoint = await endpointOf(locationId, webhookId);
      if (!endpoint.enabled) throw conflict('endpoint_disabled', 'This endpoint is disabled; enable it to send to it');
      if (!(await app.repos.webhookDeliveries.retry(webhookId, deliveryId))) throw notFound('Delivery');
      return reply.code(202).send({ id: deliveryId, status: 'pending' as const });
    },
  );
};

export default webhookEndpointRoutes;
