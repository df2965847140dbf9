// Examples for every operation in the OpenAPI document at /docs, added to the document the route schemas generate.
import type { SwaggerTransformObject } from '@fastify/swagger';
import { ACCOUNT_EXAMPLES } from './examples-accounts.js';
import { BACK_OFFICE_EXAMPLES } from './examples-back-office.js';
import { CODEC_EXAMPLES } from './examples-codec.js';
import { COLLECTION_EXAMPLES } from './examples-collection.js';
import { KITCHEN_EXAMPLES } from './examples-kitchen.js';
import { LIVE_EXAMPLES } from './examples-live.js';
import { ORDERS_EXAMPLES } from './examples-orders.js';
import { READS_EXAMPLES } from './examples-reads.js';
import { NamedExamples, type OperationExamples } from './examples-shared.js';
import { SHOP_EXAMPLES } from './examples-shop.js';
import { WEBHOOK_EXAMPLES } from './examples-webhooks.js';
import { KitchenMessageBody } from '../routes/kitchen.js';

const OPERATIONS: Record<string, OperationExamples> = {
  ...ORDERS_EXAMPLES,
  ...COLLECTION_EXAMPLES,
  ...SHOP_EXAMPLES,
  ...LIVE_EXAMPLES,
  ...ACCOUNT_EXAMPLES,
  ...READS_EXAMPLES,
  ...BACK_OFFICE_EXAMPLES,
  ...WEBHOOK_EXAMPLES,
  ...KITCHEN_EXAMPLES,
  ...CODEC_EXAMPLES,
};

/** What an error of each status looks like, for the operations above that do not say more. */
function errorExample(status: string, path: string): unknown {
  const thing = /\/slots\/\{slotId\}/.test(path)
    ? 'Slot'
    : /\/webhooks\/\{webhookId\}/.test(path)
      ? 'Webhook endpoint'
      : path.startsWith('/v1/orders')
        ? 'Order'
        : path.startsWith('/v1/products')
          ? 'Product'
          : path.startsWith('/v1/deliveries')
            ? 'Delivery'
            : path.startsWith('/v1/locations') || path.startsWith('/v1/board')
              ? 'Location'
              : 'Resource';
  switch (status) {
    case '400':
      return {
        error: 'validation_failed',
        message: 'querystring/lat must be >= -90',
        details: [{ field: '/querystring/lat', message: 'must be >= -90' }],
      };
    case '401':
      return { error: 'unauthorized', message: 'A valid bearer token is required' };
    case '403':
      return { error: 'forbidden', message: 'This needs the owner role' };
    case '404':
      return { error: 'not_found', message: `${thing} not found` };
    case '409':
      return {
        error: 'invalid_transition',
        message: 'Only a confirmed order can move to prepping; this one is awaiting_payment',
      };
    case '410':
      return { error: 'gone', message: `${thing} has expired` };
    case '413':
      return { error: 'body_too_large', message: 'Request body is too large' };
    case '414':
      return {
        error: 'uri_too_long',
        message:
          "'/v1/orders/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is exceeding the max param length",
      };
    case '415':
      return { error: 'unsupported_media_type', message: 'Unsupported Media Type: text/plain' };
    case '422':
      return { error: 'unprocessable', message: `${thing} cannot be processed as sent` };
    case '429':
      return { error: 'rate_limited', message: 'Too many requests: at most 10 a minute. Retry in 42 seconds' };
    case '503':
      return path.endsWith('/events')
        ? { error: 'events_unavailable', message: 'Live events are unavailable right now; try again shortly' }
        : { error: 'temporarily_unavailable', message: 'A dependency is briefly unavailable; retry shortly' };
    default:
      return undefined;
  }
}

interface MediaType {
  schema?: unknown;
  example?: unknown;
  examples?: unknown;
}
interface Operation {
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
  responses?: Record<string, { content?: Record<string, MediaType> }>;
}

/** The webhook reads its body as raw bytes (the signature covers them), so its route declares no body schema. */
const BANK_EVENT_SCHEMA = {
  type: 'object',
  required: ['id', 'type', 'createdAt', 'data'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200 },
    type: {
      type: 'string',
      description:
        'charge.approved, charge.insufficient_funds or charge.declined move the order; other types are acknowledged',
    },
    createdAt: { type: 'string' },
    data: {
      type: 'object',
      required: ['chargeId', 'reference', 'amountCents', 'status'],
      properties: {
        chargeId: { type: 'string' },
        reference: { type: 'string', description: 'Our order id' },
        amountCents: { type: 'integer', minimum: 0 },
        status: { type: 'string' },
      },
    },
  },
};

/** Routes that read their body as raw bytes to check its signature, and the body each documents. */
const RAW_BODY_SCHEMAS: Record<string, unknown> = {
  '/v1/webhooks/bank': BANK_EVENT_SCHEMA,
  '/v1/integrations/kitchen/{locationId}': KitchenMessageBody,
};

export const addOperationExamples: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const paths = (document.openapiObject.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const known = OPERATIONS[`${method.toUpperCase()} ${path}`];
      const rawBody = RAW_BODY_SCHEMAS[path];
      if (rawBody && !operation.requestBody) {
        operation.requestBody = { required: true, content: { 'application/json': { schema: rawBody } } };
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        if (known?.body !== undefined && media.example === undefined) media.example = known.body;
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const example = known?.responses[status] ?? errorExample(status, path);
        if (example === undefined) continue;
        for (const media of Object.values(response.content ?? {})) {
          if (media.example !== undefined || media.examples !== undefined) continue;
          if (example instanceof NamedExamples) {
            media.examples = Object.fromEntries(
              Object.entries(example.byName).map(([name, value]) => [name, { summary: name, value }]),
            );
          } else {
            media.example = example;
          }
        }
      }
    }
  }
  return document.openapiObject;
};
