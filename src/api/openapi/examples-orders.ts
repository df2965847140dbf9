// Examples of the order, payment-webhook, delivery and operations routes.
import {
  ORDER,
  DRIVER,
  LOCATION,
  SLOT,
  CROISSANT,
  RYE,
  CHARGE,
  NUMBER,
  address,
  order,
  slot,
  deliveryState,
  sse,
  several,
  keyReused,
  type OperationExamples,
} from './examples-shared.js';

export const ORDERS_EXAMPLES: Record<string, OperationExamples> = {
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
      403: {
        error: 'forbidden',
        message: 'Staff may cancel counter and collection orders; a delivery order is cancelled by its customer',
      },
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
};
