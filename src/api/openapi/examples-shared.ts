// What the examples in the OpenAPI document share: one cast of characters, so a reader can follow an order from one
// operation to the next, and the shapes of an operation's examples.
export const ORDER = '3f2a9c1e-5b7d-4e21-9a0c-6d8e2f4b1a37';
export const CUSTOMER = '8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
export const OWNER = '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e';
export const DRIVER = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
export const LOCATION = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
export const SLOT = 'd4c3b2a1-6f5e-4b7a-9d8c-5c4b3a2f1e0d';
export const CROISSANT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const RYE = '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f';
export const BREAD = 'c7d8e9f0-1a2b-4c3d-9e4f-5a6b7c8d9e0f';
export const PASTRY = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';
export const CHARGE = '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e';
export const NUMBER = '3F2A';

export const address = { lat: 51.5203, lng: -0.0714, line1: '1 Brick Lane, London E1 6PU' };
export const order = {
  id: ORDER,
  status: 'awaiting_payment',
  reason: null,
  customerId: CUSTOMER,
  locationId: LOCATION,
  slotId: SLOT,
  fulfilment: 'delivery',
  label: null,
  collectBy: null,
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
export const slot = {
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
export const template = { weekday: 5, start: '12:00', end: '13:00', capacity: 20, cutoffMinutes: 15 };
export const sessionUser = {
  id: OWNER,
  name: 'Ada (Brick Lane Bakery)',
  email: 'ada@example.com',
  role: 'owner',
  locationIds: [LOCATION],
};
export const deliveryState = (status: string) => ({ orderId: ORDER, status, driverId: DRIVER });
export const sse = (frames: [id: number, event: string, data: unknown][]) =>
  `retry: 2000\n\n${frames.map(([id, event, data]) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('')}`;

/** Several answers under one status code (a 422 has several causes), each named by its error code. */
export class NamedExamples {
  constructor(readonly byName: Record<string, unknown>) {}
}
export const several = (byName: Record<string, unknown>) => new NamedExamples(byName);

export interface OperationExamples {
  body?: unknown;
  /** By status code; error codes not listed here get the generic example for their status. */
  responses: Record<string, unknown>;
}

export const keyReused = {
  error: 'idempotency_key_reused',
  message: 'This Idempotency-Key was already used for a different request',
};
