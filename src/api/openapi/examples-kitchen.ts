// Examples of the kitchen integration: the owner's inbound secret, and a kitchen system's signed messages.
import { LOCATION, NUMBER, ORDER, type OperationExamples } from './examples-shared.js';

const url = `https://shop.example.com/v1/integrations/kitchen/${LOCATION}`;

export const KITCHEN_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/locations/{id}/integrations/kitchen/secret': {
    responses: {
      201: {
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3m5uX1jdXBw=',
        createdAt: '2025-03-14T09:00:00.000Z',
        previousExpiresAt: '2025-03-15T09:00:00.000Z',
        url,
      },
    },
  },
  'GET /v1/locations/{id}/integrations/kitchen': {
    responses: {
      200: { configured: true, createdAt: '2025-03-14T09:00:00.000Z', previousExpiresAt: null, url },
    },
  },
  'POST /v1/integrations/kitchen/{locationId}': {
    body: { type: 'order.prepped', data: { number: NUMBER } },
    responses: {
      200: { orderId: ORDER, number: NUMBER, status: 'prepped', duplicate: false },
      400: {
        error: 'validation_failed',
        message: 'body.data must name the order by exactly one of orderId or number',
      },
      401: {
        error: 'invalid_signature',
        message:
          'The webhook-id, webhook-timestamp and webhook-signature headers are missing, do not match the body with ' +
          "the location's secret, or are more than 5 minutes from our clock",
      },
      409: {
        error: 'invalid_transition',
        message: 'Only a prepping order can move to prepped; this one is confirmed',
      },
    },
  },
};
