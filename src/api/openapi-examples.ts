// Examples for every operation in the OpenAPI document at /docs, added to the document the route schemas generate.
import type { SwaggerTransformObject } from '@fastify/swagger';

// One cast of characters across all examples, so a reader can follow an order from one operation to the next.
const ORDER = '3f2a9c1e-5b7d-4e21-9a0c-6d8e2f4b1a37';
const CUSTOMER = '8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const OWNER = '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';
const DRIVER = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
const LOCATION = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
const SLOT = 'd4c3b2a1-6f5e-4b7a-9d8c-5c4b3a2f1e0d';
const CROISSANT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const RYE = '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f';
const CHARGE = '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e';
const NUMBER = '3F2A';

const address = { lat: 51.5203, lng: -0.0714, line1: '1 Brick Lane, London E1 6PU' };
const order = {
  id: ORDER,
  status: 'awaiting_payment',
  reason: null,
  customerId: CUSTOMER,
  locationId: LOCATION,
  slotId: SLOT,
  totalCents: 1225,
  items: [
    { productId: CROISSANT, quantity: 2, unitPriceCents: 325 },
    { productId: RYE, quantity: 1, unitPriceCents: 575 },
  ],
  address,
  createdAt: '2025-03-14T11:02:07.120Z',
  updatedAt: '2025-03-14T11:02:07.480Z',
  timeline: [
    { id: 1041, type: 'order.placed', status: 'placed', reason: null, at: '2025-03-14T11:02:07.130Z' },
    { id: 1042, type: 'order.status', status: 'awaiting_payment', reason: null, at: '2025-03-14T11:02:07.470Z' },
  ],
};
const slot = {
  id: SLOT,
  locationId: LOCATION,
  startsAt: '2025-03-14T12:00:00.000Z',
  endsAt: '2025-03-14T13:00:00.000Z',
  capacity: 20,
  reserved: 7,
  remaining: 13,
  cutoffAt: '2025-03-14T11:45:00.000Z',
  status: 'open',
};
const template = { weekday: 5, start: '12:00', end: '13:00', capacity: 20, cutoffMinutes: 15 };
const sessionUser = { id: OWNER, name: 'Ada (Brick Lane Bakery)', role: 'owner', locationIds: [LOCATION] };
const deliveryState = (status: string) => ({ orderId: ORDER, status, driverId: DRIVER });
const sse = (frames: [id: number, event: string, data: unknown][]) =>
  `retry: 2000\n\n${frames.map(([id, event, data]) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('')}`;

/** Several answers under one status code (a 422 has several causes), each named by its error code. */
class NamedExamples {
  constructor(readonly byName: Record<string, unknown>) {}
}
const several = (byName: Record<string, unknown>) => new NamedExamples(byName);

interface OperationExamples {
  body?: unknown;
  /** By status code; error codes not listed here get the generic example for their status. */
  responses: Record<string, unknown>;
}

const keyReused = {
  error: 'idempotency_key_reused',
  message: 'This Idempotency-Key was already used for a different request',
};

const OPERATIONS: Record<string, OperationExamples> = {
  'GET /metrics': {
    responses: {
      200: [
        '# HELP http_request_duration_seconds HTTP requests by method, route pattern and status code',
        '# TYPE http_request_duration_seconds histogram',
        'http_request_duration_seconds_bucket{le="0.05",method="POST",route="/v1/orders",status_code="201"} 41',
        '# HELP order_refusals_total Orders refused at placement (POST /v1/orders answered 409), by reason',
        '# TYPE order_refusals_total counter',
        'order_refusals_total{reason="out_of_stock"} 3',
        '# HELP orders_by_status Orders in the read model by status',
        '# TYPE orders_by_status gauge',
        'orders_by_status{status="awaiting_payment"} 12',
        '# HELP sse_open_streams Server-Sent Event streams this process holds open',
        '# TYPE sse_open_streams gauge',
        'sse_open_streams 214',
        '',
      ].join('\n'),
    },
  },
  'GET /healthz': { responses: { 200: { status: 'ok' } } },
  'GET /readyz': {
    responses: {
      200: { status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true } } },
      503: {
        status: 'unavailable',
        checks: { postgres: { ok: true }, temporal: { ok: false, error: 'Temporal did not answer within 2000 ms' } },
      },
    },
  },
  'POST /v1/orders': {
    body: {
      locationId: LOCATION,
      slotId: SLOT,
      items: [
        { productId: CROISSANT, quantity: 2 },
        { productId: RYE, quantity: 1 },
      ],
      address,
    },
    responses: {
      201: order,
      409: { error: 'out_of_stock', message: 'The order was refused: out_of_stock', details: { orderId: ORDER } },
      422: several({
        unknown_slot: { error: 'unknown_slot', message: `Slot ${SLOT} is not a slot of location ${LOCATION}` },
        outside_delivery_area: {
          error: 'outside_delivery_area',
          message: `The address is 9,214 m from location ${LOCATION}, which delivers only within 6,000 m`,
          details: { distanceM: 9214, deliveryRadiusM: 6000 },
        },
        idempotency_key_reused: keyReused,
      }),
    },
  },
  'GET /v1/orders/{id}': {
    responses: {
      200: {
        ...order,
        status: 'confirmed',
        timeline: [
          ...order.timeline,
          { id: 1050, type: 'order.status', status: 'confirmed', reason: null, at: '2025-03-14T11:02:08.015Z' },
        ],
      },
    },
  },
  'POST /v1/orders/{id}/cancel': {
    responses: {
      200: { ...order, status: 'cancelled', reason: 'customer_cancelled' },
      409: { error: 'invalid_transition', message: 'An order that is prepping can no longer be cancelled' },
    },
  },
  'POST /v1/orders/{id}/prep': {
    body: { status: 'prepping' },
    responses: { 200: { ...order, status: 'prepping' } },
  },
  'GET /v1/orders/{id}/events': {
    responses: {
      200: sse([
        [
          1041,
          'order.placed',
          { orderId: ORDER, status: 'placed', totalCents: 1225, number: NUMBER, at: '2025-03-14T11:02:07.130Z' },
        ],
        [
          1042,
          'order.status',
          {
            orderId: ORDER,
            status: 'awaiting_payment',
            reason: null,
            totalCents: 1225,
            number: NUMBER,
            at: '2025-03-14T11:02:07.470Z',
          },
        ],
      ]),
    },
  },
  'POST /v1/products': {
    body: {
      name: 'Sourdough rye',
      description: 'Dark rye, 800 g',
      priceCents: 575,
      shelfLifeMinutes: 2880,
      eodDiscountPercent: 30,
    },
    responses: {
      201: {
        id: RYE,
        name: 'Sourdough rye',
        description: 'Dark rye, 800 g',
        priceCents: 575,
        shelfLifeMinutes: 2880,
        eodDiscountPercent: 30,
        createdAt: '2025-03-01T08:00:00.000Z',
      },
    },
  },
  'POST /v1/locations': {
    body: {
      name: 'Brick Lane Bakery',
      kind: 'bakery',
      lat: 51.5215,
      lng: -0.0719,
      deliveryRadiusM: 6000,
      timezone: 'Europe/London',
      opensAt: '07:00',
      closesAt: '19:00',
      ownerIds: [OWNER],
    },
    responses: {
      201: {
        id: LOCATION,
        name: 'Brick Lane Bakery',
        kind: 'bakery',
        lat: 51.5215,
        lng: -0.0719,
        deliveryRadiusM: 6000,
        timezone: 'Europe/London',
        opensAt: '07:00',
        closesAt: '19:00',
        ownerIds: [OWNER],
        createdAt: '2025-03-01T08:00:00.000Z',
      },
      422: { error: 'unknown_timezone', message: '"Europe/Londn" is not a known IANA time zone' },
    },
  },
  'GET /v1/locations': {
    responses: {
      200: {
        items: [
          {
            id: LOCATION,
            name: 'Brick Lane Bakery',
            kind: 'bakery',
            lat: 51.5215,
            lng: -0.0719,
            deliveryRadiusM: 6000,
            distanceM: 140,
          },
        ],
      },
    },
  },
  'POST /v1/locations/{id}/stock': {
    body: { productId: CROISSANT, quantity: 48 },
    responses: {
      201: {
        id: 7731,
        locationId: LOCATION,
        productId: CROISSANT,
        quantity: 48,
        available: 48,
        reserved: 0,
        sold: 0,
        discarded: 0,
        producedAt: '2025-03-14T06:30:00.000Z',
        expiresAt: '2025-03-15T06:30:00.000Z',
        discountFrom: '2025-03-14T17:00:00.000Z',
      },
      422: several({
        unknown_product: { error: 'unknown_product', message: `Product ${CROISSANT} does not exist` },
        idempotency_key_reused: keyReused,
      }),
    },
  },
  'GET /v1/availability': {
    responses: {
      200: {
        items: [
          {
            productId: CROISSANT,
            name: 'Butter croissant',
            description: 'Laminated by hand',
            priceCents: 325,
            discountedPriceCents: 228,
            priceInEffectCents: 325,
            available: 46,
            discountedAvailable: 0,
            locations: [
              {
                locationId: LOCATION,
                name: 'Brick Lane Bakery',
                distanceM: 140,
                available: 46,
                discountedAvailable: 0,
                priceInEffectCents: 325,
              },
            ],
          },
        ],
        nextCursor: 'WyJidXR0ZXIgY3JvaXNzYW50IiwiMGExYjJjM2QtNGU1Zi00YTZiLThjN2QtOWUwZjFhMmIzYzRkIl0',
      },
    },
  },
  'GET /v1/locations/{id}/slots': { responses: { 200: { slots: [slot] } } },
  'PUT /v1/locations/{id}/slot-templates': { body: [template], responses: { 200: { templates: [template] } } },
  'PUT /v1/locations/{id}/production/{productId}': {
    body: { everyMinutes: 60, quantity: 24 },
    responses: {
      200: {
        locationId: LOCATION,
        productId: CROISSANT,
        everyMinutes: 60,
        quantity: 24,
        scheduleId: `production-${LOCATION}-${CROISSANT}`,
      },
    },
  },
  'PATCH /v1/locations/{id}/slots/{slotId}': {
    body: { capacity: 25 },
    responses: {
      200: { ...slot, capacity: 25, remaining: 18 },
      409: { error: 'slot_closed', message: 'The slot is closed' },
    },
  },
  'GET /v1/locations/{id}/slots/events': {
    responses: {
      200: sse([
        [
          1042,
          'snapshot',
          {
            locationId: LOCATION,
            slots: [
              {
                id: SLOT,
                startsAt: slot.startsAt,
                endsAt: slot.endsAt,
                capacity: 20,
                reserved: 7,
                remaining: 13,
                cutoffAt: slot.cutoffAt,
                status: 'open',
              },
            ],
          },
        ],
        [1043, 'slot', { slotId: SLOT, capacity: 20, reserved: 8, remaining: 12, status: 'open' }],
      ]),
    },
  },
  'POST /v1/webhooks/bank': {
    body: {
      id: 'evt_01HQ8Z6K2M',
      type: 'charge.approved',
      createdAt: '2025-03-14T11:02:07.900Z',
      data: { chargeId: CHARGE, reference: ORDER, amountCents: 1225, status: 'approved' },
    },
    responses: {
      401: {
        error: 'invalid_signature',
        message: 'The Bank-Signature header is missing, does not match the body, or is too old',
      },
      503: { error: 'temporarily_unavailable', message: 'The event could not be handled now; retry later' },
    },
  },
  'GET /v1/deliveries': {
    responses: {
      200: {
        deliveries: [
          {
            orderId: ORDER,
            locationId: LOCATION,
            driverId: DRIVER,
            status: 'assigned',
            slotStartsAt: slot.startsAt,
            address,
            updatedAt: '2025-03-14T11:40:12.000Z',
          },
        ],
      },
    },
  },
  'POST /v1/deliveries/{id}/assign': {
    body: { driverId: DRIVER },
    responses: { 200: deliveryState('assigned'), 422: { error: 'unknown_driver', message: `No driver ${DRIVER}` } },
  },
  'POST /v1/deliveries/{id}/pickup': {
    responses: {
      200: deliveryState('picked_up'),
      403: { error: 'forbidden', message: 'This delivery is assigned to another driver' },
    },
  },
  'POST /v1/deliveries/{id}/complete': {
    responses: {
      200: deliveryState('delivered'),
      409: { error: 'invalid_transition', message: 'Cannot complete: the delivery is assigned, not picked_up' },
    },
  },
  'POST /v1/session': {
    body: { token: 'own_7hQ2kX9pLm4vR8sT1wY6zB3n' },
    responses: {
      200: { user: sessionUser },
      403: {
        error: 'csrf_required',
        message: 'Requests made with the session cookie must send the header "x-csrf: 1"',
      },
    },
  },
  'GET /v1/session': { responses: { 200: { user: sessionUser } } },
  'DELETE /v1/session': {
    responses: {
      403: {
        error: 'csrf_required',
        message: 'Requests made with the session cookie must send the header "x-csrf: 1"',
      },
    },
  },
  'GET /v1/dashboard': {
    responses: {
      200: {
        locations: [{ id: LOCATION, name: 'Brick Lane Bakery' }],
        drivers: [{ id: DRIVER, name: 'Sam' }],
        orders: [
          {
            id: ORDER,
            number: NUMBER,
            locationId: LOCATION,
            status: 'prepped',
            totalCents: 1225,
            slotStartsAt: slot.startsAt,
            items: [
              { name: 'Butter croissant', quantity: 2 },
              { name: 'Sourdough rye', quantity: 1 },
            ],
            delivery: { status: 'pending', driverId: null },
          },
        ],
      },
    },
  },
  'GET /v1/dashboard/events': {
    responses: {
      200: sse([
        [
          1060,
          'snapshot',
          {
            locations: [{ id: LOCATION, name: 'Brick Lane Bakery' }],
            drivers: [{ id: DRIVER, name: 'Sam' }],
            orders: [],
          },
        ],
        [
          1061,
          'order.status',
          {
            orderId: ORDER,
            status: 'confirmed',
            reason: null,
            totalCents: 1225,
            number: NUMBER,
            at: '2025-03-14T11:02:08.015Z',
          },
        ],
      ]),
    },
  },
  'GET /v1/driver/events': {
    responses: {
      200: sse([
        [1070, 'snapshot', { deliveries: [] }],
        [
          1071,
          'delivery.status',
          {
            orderId: ORDER,
            deliveryStatus: 'assigned',
            driverId: DRIVER,
            number: NUMBER,
            at: '2025-03-14T11:40:12.000Z',
          },
        ],
      ]),
    },
  },
  'GET /v1/board/{locationId}/events': {
    responses: {
      200: sse([
        [
          1080,
          'snapshot',
          {
            location: { id: LOCATION, name: 'Brick Lane Bakery' },
            orders: [{ number: '9C1E', state: 'out_for_delivery' }],
          },
        ],
        [1081, 'board', { number: NUMBER, state: 'ready' }],
      ]),
    },
  },
};

/** What an error of each status looks like, for the operations above that do not say more. */
function errorExample(status: string, path: string): unknown {
  const thing = /\/slots\/\{slotId\}/.test(path)
    ? 'Slot'
    : path.startsWith('/v1/orders')
      ? 'Order'
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

export const addOperationExamples: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const paths = (document.openapiObject.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const known = OPERATIONS[`${method.toUpperCase()} ${path}`];
      if (path === '/v1/webhooks/bank' && !operation.requestBody) {
        operation.requestBody = { required: true, content: { 'application/json': { schema: BANK_EVENT_SCHEMA } } };
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
