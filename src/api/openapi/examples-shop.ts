// Examples of the shop's routes: products, locations, stock, availability, slots and production.
import {
  BREAD,
  PASTRY,
  OWNER,
  LOCATION,
  SLOT,
  CROISSANT,
  RYE,
  slot,
  template,
  sse,
  several,
  keyReused,
  type OperationExamples,
} from './examples-shared.js';

/** The location the examples create, as its owner sends it. */
const newLocation = {
  name: 'Brick Lane Bakery',
  kind: 'bakery',
  lat: 51.5215,
  lng: -0.0719,
  deliveryRadiusM: 6000,
  timezone: 'Europe/London',
  opensAt: '07:00',
  closesAt: '19:00',
  ownerIds: [OWNER],
};

export const SHOP_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/products': {
    body: {
      name: 'Sourdough rye',
      description: 'Dark rye, 800 g',
      priceCents: 575,
      shelfLifeMinutes: 2880,
      eodDiscountPercent: 30,
      categoryId: BREAD,
      tags: ['vegan', 'organic'],
    },
    responses: {
      201: {
        id: RYE,
        name: 'Sourdough rye',
        description: 'Dark rye, 800 g',
        priceCents: 575,
        shelfLifeMinutes: 2880,
        eodDiscountPercent: 30,
        category: { id: BREAD, name: 'Bread' },
        tags: ['vegan', 'organic'],
        createdAt: '2025-03-01T08:00:00.000Z',
      },
      422: { error: 'unknown_category', message: `categoryId: category ${PASTRY} does not exist` },
    },
  },
  'GET /v1/categories': {
    responses: {
      200: {
        items: [
          { id: BREAD, name: 'Bread', createdAt: '2025-03-01T08:00:00.000Z' },
          { id: PASTRY, name: 'Pastry', createdAt: '2025-03-01T08:00:00.000Z' },
        ],
      },
    },
  },
  'POST /v1/categories': {
    body: { name: 'Pastry' },
    responses: {
      201: { id: PASTRY, name: 'Pastry', createdAt: '2025-03-01T08:00:00.000Z' },
      409: { error: 'category_exists', message: 'A category named "Pastry" exists' },
    },
  },
  'DELETE /v1/categories/{id}': {
    responses: {
      404: { error: 'not_found', message: 'Category not found' },
      409: { error: 'category_in_use', message: 'Products are in this category: move them to another first' },
    },
  },
  'POST /v1/locations': {
    body: newLocation,
    responses: {
      201: { id: LOCATION, ...newLocation, createdAt: '2025-03-01T08:00:00.000Z' },
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
        facets: {
          categories: [
            { id: PASTRY, name: 'Pastry', count: 12 },
            { id: BREAD, name: 'Bread', count: 7 },
          ],
          tags: [
            { tag: 'vegetarian', count: 15 },
            { tag: 'vegan', count: 6 },
            { tag: 'contains_nuts', count: 3 },
          ],
        },
      },
      400: {
        error: 'validation_failed',
        message: 'querystring/maxPriceCents must be >= 0',
        details: [{ field: '/querystring/maxPriceCents', message: 'must be >= 0' }],
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
        [
          1043,
          'slot',
          {
            slotId: SLOT,
            startsAt: slot.startsAt,
            endsAt: slot.endsAt,
            cutoffAt: slot.cutoffAt,
            capacity: 20,
            reserved: 8,
            remaining: 12,
            status: 'open',
          },
        ],
        [1044, 'stock', { productId: CROISSANT }],
      ]),
    },
  },
};
