// Examples of the owner's back office: throwing out a lot's units, pausing production, a location's settings, and the
// back office's live stream.
import { CROISSANT, LOCATION, RYE, SLOT, slot, sse, type OperationExamples } from './examples-shared.js';

const discardedLot = {
  id: 7731,
  locationId: LOCATION,
  productId: CROISSANT,
  quantity: 48,
  available: 37,
  reserved: 2,
  sold: 6,
  discarded: 3,
  producedAt: '2025-03-14T06:30:00.000Z',
  expiresAt: '2025-03-15T06:30:00.000Z',
  discountFrom: '2025-03-14T17:00:00.000Z',
};

const slotEvent = {
  slotId: SLOT,
  startsAt: slot.startsAt,
  endsAt: slot.endsAt,
  cutoffAt: slot.cutoffAt,
  capacity: 20,
  reserved: 0,
  remaining: 20,
  status: 'open',
};

export const BACK_OFFICE_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/locations/{id}/stock/{lotId}/discard': {
    body: { quantity: 3 },
    responses: {
      200: discardedLot,
      404: { error: 'not_found', message: 'Lot not found' },
      409: {
        error: 'reserved_units',
        message:
          'quantity 45 is more than the 40 unreserved units of lot 7731; units reserved or sold for orders cannot be discarded',
        details: { unreserved: 40 },
      },
    },
  },
  'PATCH /v1/locations/{id}/production/{productId}': {
    body: { paused: true },
    responses: {
      200: {
        locationId: LOCATION,
        productId: CROISSANT,
        everyMinutes: 60,
        quantity: 24,
        scheduleId: `production-${LOCATION}-${CROISSANT}`,
        nextRunAt: null,
        lastRunAt: '2025-03-14T11:00:00.412Z',
        paused: true,
      },
      404: { error: 'not_found', message: 'Production plan not found' },
    },
  },
  'PATCH /v1/locations/{id}': {
    body: { deliveryRadiusM: 4500, closesAt: '18:30' },
    responses: {
      200: {
        id: LOCATION,
        name: 'Brick Lane Bakery',
        kind: 'bakery',
        lat: 51.5215,
        lng: -0.0719,
        deliveryRadiusM: 4500,
        timezone: 'Europe/London',
        opensAt: '07:00',
        closesAt: '18:30',
        createdAt: '2025-03-01T08:00:00.000Z',
      },
      400: {
        error: 'validation_failed',
        message: 'body/closesAt: the location would close at 06:30, not after it opens at 07:00',
        details: [{ field: '/body/closesAt', message: 'closesAt must be after opensAt' }],
      },
    },
  },
  'GET /v1/locations/{id}/events': {
    responses: {
      200: sse([
        [2040, 'snapshot', { locationId: LOCATION }],
        [2041, 'slot.opened', { ...slotEvent, at: '2025-03-14T00:05:01.220Z' }],
        [2042, 'slot.capacity', { ...slotEvent, reserved: 1, remaining: 19, at: '2025-03-14T09:12:40.031Z' }],
        [
          2043,
          'stock.received',
          {
            lotId: 7732,
            productId: RYE,
            quantity: 12,
            expiresAt: '2025-03-16T09:30:00.000Z',
            at: '2025-03-14T09:30:00.118Z',
          },
        ],
        [
          2044,
          'stock.discarded',
          { lotId: 7731, productId: CROISSANT, units: 3, reason: 'staff', at: '2025-03-14T09:41:07.502Z' },
        ],
        [2045, 'catalog.changed', { productId: CROISSANT, at: '2025-03-14T10:02:55.900Z' }],
        [2046, 'production.changed', { productId: CROISSANT, at: '2025-03-14T10:15:12.004Z' }],
        [2047, 'location.changed', { locationId: LOCATION, at: '2025-03-14T10:20:31.777Z' }],
      ]),
    },
  },
};
