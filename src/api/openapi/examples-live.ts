// Examples of the session, dashboard and live-stream routes.
import { ORDER, DRIVER, LOCATION, NUMBER, slot, sessionUser, sse, type OperationExamples } from './examples-shared.js';

export const LIVE_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/session': {
    body: { email: 'ada@example.com', password: 'correct horse battery' },
    responses: {
      200: { user: sessionUser },
      401: { error: 'invalid_credentials', message: 'Wrong email or password' },
      429: { error: 'too_many_attempts', message: 'Too many failed logins for this email; try again later' },
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
