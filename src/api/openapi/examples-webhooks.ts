// Examples of the outgoing webhook routes: Brick Lane Bakery sends its orders to the poster screens' receiver.
import { LOCATION, several, type OperationExamples } from './examples-shared.js';

const ENDPOINT = '7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a';
const endpoint = {
  id: ENDPOINT,
  locationId: LOCATION,
  url: 'https://screens.example.com/hooks/orders',
  description: 'Poster screens',
  events: ['order.confirmed', 'order.ready_for_collection', 'order.completed'],
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  previousSecretExpiresAt: null,
  createdAt: '2025-03-14T09:00:00.000Z',
  updatedAt: '2025-03-14T09:00:00.000Z',
};
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const badUrl = {
  error: 'invalid_url',
  message: 'body/url must use https',
  details: [{ field: '/body/url', message: 'must use https' }],
};
const delivery = {
  id: '5120',
  webhookId: 'msg_1090',
  eventId: '1090',
  type: 'order.completed',
  status: 'delivered',
  occurredAt: '2025-03-14T12:05:31.907Z',
  createdAt: '2025-03-14T12:05:31.907Z',
  nextAttemptAt: null,
  deliveredAt: '2025-03-14T12:05:37.311Z',
  attempts: [
    { at: '2025-03-14T12:05:31.950Z', statusCode: 503, latencyMs: 41, error: 'answered 503' },
    { at: '2025-03-14T12:05:37.250Z', statusCode: 200, latencyMs: 61, error: null },
  ],
};
const disabled = { error: 'endpoint_disabled', message: 'This endpoint is disabled; enable it to send to it' };

export const WEBHOOK_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/locations/{id}/webhooks': {
    body: { url: endpoint.url, events: endpoint.events, description: endpoint.description },
    responses: {
      201: { ...endpoint, secret },
      409: { error: 'webhook_limit', message: 'A location has at most 20 webhook endpoints' },
      422: badUrl,
    },
  },
  'GET /v1/locations/{id}/webhooks': { responses: { 200: { webhooks: [endpoint] } } },
  'PATCH /v1/locations/{id}/webhooks/{webhookId}': {
    body: { enabled: false },
    responses: {
      200: { ...endpoint, enabled: false, disabledReason: 'owner', disabledAt: '2025-03-14T13:00:00.000Z' },
      422: badUrl,
    },
  },
  'DELETE /v1/locations/{id}/webhooks/{webhookId}': { responses: { 204: null } },
  'POST /v1/locations/{id}/webhooks/{webhookId}/secret': {
    responses: {
      200: {
        ...endpoint,
        secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
        previousSecretExpiresAt: '2025-03-15T13:00:00.000Z',
        updatedAt: '2025-03-14T13:00:00.000Z',
      },
    },
  },
  'POST /v1/locations/{id}/webhooks/{webhookId}/test': {
    responses: { 202: { deliveryId: '5121' }, 409: disabled },
  },
  'GET /v1/locations/{id}/webhooks/{webhookId}/deliveries': {
    responses: {
      200: {
        deliveries: [
          delivery,
          {
            ...delivery,
            id: '5119',
            webhookId: 'msg_1072',
            eventId: '1072',
            type: 'order.ready_for_collection',
            status: 'pending',
            deliveredAt: null,
            nextAttemptAt: '2025-03-14T11:42:52.160Z',
            attempts: [
              {
                at: '2025-03-14T11:41:52.200Z',
                statusCode: null,
                latencyMs: 10000,
                error: 'no answer within 10000 ms',
              },
            ],
          },
        ],
        nextCursor: 'WzUxMTld',
      },
      400: several({
        invalid_cursor: {
          error: 'invalid_cursor',
          message: 'querystring/cursor is not a cursor this API returned; start again without it',
        },
      }),
    },
  },
  'POST /v1/locations/{id}/webhooks/{webhookId}/deliveries/{deliveryId}/retry': {
    responses: { 202: { id: '5119', status: 'pending' }, 409: disabled },
  },
};
