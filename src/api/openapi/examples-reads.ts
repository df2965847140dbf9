// Examples of the reads: a location, the catalogue and a product change, order history, and a location's stock,
// slot plan and production plans as its owner reads them back.
import {
  BREAD,
  CROISSANT,
  PASTRY,
  CUSTOMER,
  LOCATION,
  NUMBER,
  ORDER,
  RYE,
  SLOT,
  order,
  slot,
  template,
  type OperationExamples,
} from './examples-shared.js';

const rye = {
  id: RYE,
  name: 'Sourdough rye',
  description: 'Dark rye, 800 g',
  priceCents: 575,
  shelfLifeMinutes: 2880,
  eodDiscountPercent: 30,
  category: { id: BREAD, name: 'Bread' },
  tags: ['vegan', 'organic'],
  createdAt: '2025-03-01T08:00:00.000Z',
};
const croissant = {
  id: CROISSANT,
  name: 'Butter croissant',
  description: 'Laminated by hand',
  priceCents: 325,
  shelfLifeMinutes: 720,
  eodDiscountPercent: 30,
  category: { id: PASTRY, name: 'Pastry' },
  tags: ['vegetarian'],
  createdAt: '2025-03-01T08:00:00.000Z',
};
const invalidCursor = {
  error: 'invalid_cursor',
  message: 'querystring/cursor is not a cursor this API returned; start again without it',
  details: [{ field: '/querystring/cursor', message: 'is not a cursor this API returned' }],
};
const lot = {
  id: 7731,
  locationId: LOCATION,
  productId: CROISSANT,
  quantity: 48,
  available: 40,
  reserved: 2,
  sold: 6,
  discarded: 0,
  producedAt: '2025-03-14T06:30:00.000Z',
  expiresAt: '2025-03-15T06:30:00.000Z',
  discountFrom: '2025-03-14T17:00:00.000Z',
};

export const READS_EXAMPLES: Record<string, OperationExamples> = {
  'GET /v1/locations/{id}/collection': {
    responses: { 200: { collectionWindowMinutes: 60, boardHoldMinutes: 30 } },
  },
  'PATCH /v1/locations/{id}/collection': {
    body: { collectionWindowMinutes: 90 },
    responses: { 200: { collectionWindowMinutes: 90, boardHoldMinutes: 30 } },
  },
  'GET /v1/locations/{id}': {
    responses: {
      200: {
        id: LOCATION,
        name: 'Brick Lane Bakery',
        kind: 'bakery',
        lat: 51.5215,
        lng: -0.0719,
        deliveryRadiusM: 6000,
        timezone: 'Europe/London',
        opensAt: '07:00',
        closesAt: '19:00',
        createdAt: '2025-03-01T08:00:00.000Z',
      },
    },
  },
  'GET /v1/products': {
    responses: {
      200: {
        items: [croissant, rye],
        nextCursor: 'WyJzb3VyZG91Z2ggcnllIiwiOWY4ZTdkNmMtNWI0YS00YzNkLThlMmYtMWEwYjljOGQ3ZTZmIl0',
      },
      400: invalidCursor,
    },
  },
  'GET /v1/products/{id}': { responses: { 200: rye, 404: { error: 'not_found', message: 'Product not found' } } },
  'PATCH /v1/products/{id}': {
    body: { priceCents: 595, tags: ['vegan', 'organic', 'gluten_free'] },
    responses: {
      200: { ...rye, priceCents: 595, tags: ['vegan', 'organic', 'gluten_free'] },
      422: { error: 'unknown_category', message: `categoryId: category ${PASTRY} does not exist` },
      400: {
        error: 'validation_failed',
        message: 'body must NOT have fewer than 1 properties',
        details: [{ field: '/body', message: 'must NOT have fewer than 1 properties' }],
      },
      404: { error: 'not_found', message: 'Product not found' },
    },
  },
  'GET /v1/orders': {
    responses: {
      200: {
        items: [
          {
            id: ORDER,
            number: NUMBER,
            status: 'confirmed',
            reason: null,
            customerId: CUSTOMER,
            locationId: LOCATION,
            fulfilment: 'delivery',
            slotId: SLOT,
            slotStartsAt: slot.startsAt,
            collectBy: null,
            totalCents: order.totalCents,
            items: order.items,
            createdAt: order.createdAt,
            updatedAt: '2025-03-14T11:02:09.310Z',
          },
        ],
        nextCursor: 'WyIyMDI1LTAzLTE0VDExOjAyOjA3LjEyMDQ1MVoiLCIzZjJhOWMxZS01YjdkLTRlMjEtOWEwYy02ZDhlMmY0YjFhMzciXQ',
      },
      400: invalidCursor,
    },
  },
  'GET /v1/locations/{id}/stock': { responses: { 200: { items: [lot], nextCursor: null }, 400: invalidCursor } },
  'GET /v1/locations/{id}/slot-templates': { responses: { 200: { templates: [template] } } },
  'GET /v1/locations/{id}/production': {
    responses: {
      200: {
        plans: [
          {
            locationId: LOCATION,
            productId: CROISSANT,
            everyMinutes: 60,
            quantity: 24,
            scheduleId: `production-${LOCATION}-${CROISSANT}`,
            nextRunAt: '2025-03-14T12:00:00.000Z',
            lastRunAt: '2025-03-14T11:00:00.412Z',
            paused: false,
          },
        ],
      },
    },
  },
};
