// The live streams (SSE), one per audience, each shaping the event log into what that audience may see.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { EventRecord } from '../../events/log.js';
import { streams } from '../../events/log.js';
import { boardSnapshot, boardState, dashboardSnapshot, slotsSnapshot } from '../../events/snapshots.js';
import { orderNumber } from '../../domain/vocabulary.js';
import { notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { errorResponses, Uuid } from '../schemas.js';
import { canSeeOrder } from '../../domain/access.js';
import { BOARD_STATES, DeliveryStatus, OrderStatus, type EventType } from '../../domain/vocabulary.js';

/**
 * A 200 answer that is a text/event-stream: each event has a decimal `id` (send it back as Last-Event-ID to resume),
 * one of the stream's `event` names and one line of JSON `data`; the stream opens with a `retry` hint.
 */
function eventStream(events: readonly string[], data: string) {
  const Event = Type.Object({
    id: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
    event: Type.Optional(Type.Enum(events)),
    data: Type.Optional(Type.String({ description: `JSON: ${data}` })),
    retry: Type.Optional(Type.Integer({ minimum: 0 })),
  });
  return { description: `An event stream: ${events.join(', ')}`, content: { 'text/event-stream': { schema: Event } } };
}
/** The stream events that carry an event of the log under its own type. */
const logEvents = <T extends EventType>(...types: T[]) => types;
const LastEventIdHeaders = Type.Object({
  // Its format (decimal, at most 15 digits) is checked by the stream itself, which refuses anything else with 400
  // invalid_last_event_id.
  'last-event-id': Type.Optional(
    Type.String({
      description:
        'The decimal id of the last event received; the stream resumes right after it (400 invalid_last_event_id for anything else)',
    }),
  ),
});
const Named = Type.Object({ id: Uuid, name: Type.String() });
const Dashboard = Type.Object({
  locations: Type.Array(Named),
  drivers: Type.Array(Named),
  orders: Type.Array(
    Type.Object({
      id: Uuid,
      number: Type.String({ examples: ['3F2A'] }),
      locationId: Uuid,
      status: OrderStatus,
      totalCents: Type.Integer(),
      slotStartsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      items: Type.Array(Type.Object({ name: Type.String(), quantity: Type.Integer() })),
      delivery: Type.Union([
        Type.Object({ status: DeliveryStatus, driverId: Type.Union([Uuid, Type.Null()]) }),
        Type.Null(),
      ]),
    }),
  ),
});
/** A stream of the caller's own: refused for a bad Last-Event-ID, without the role, or when live events are down. */
const ownStreamErrors = errorResponses(400, 401, 403, 503);

/** Status and delivery events as the order's own people see them, with the order's short number. */
const withNumber = (event: EventRecord) => {
  const orderId = typeof event.payload.orderId === 'string' ? event.payload.orderId : '';
  return { type: event.type, data: { ...event.payload, number: orderNumber(orderId), at: event.createdAt } };
};

/** What a location's staff follow live in the back office: its slots, stock, production, settings and the catalogue. */
const BACK_OFFICE_EVENTS = logEvents(
  'slot.opened',
  'slot.capacity',
  'stock.received',
  'stock.discounted',
  'stock.discarded',
  'stock.sold_out',
  'catalog.changed',
  'production.changed',
  'location.changed',
);
/** Stock events tell customers which product's availability to read again. */
const STOCK_EVENTS = logEvents('stock.received', 'stock.discounted', 'stock.discarded', 'stock.sold_out');

/** A slot as the public sees it in an event: copied field by field, so whatever else a payload holds stays inside. */
const publicSlot = (p: Record<string, unknown>) => ({
  slotId: p.slotId,
  startsAt: p.startsAt,
  endsAt: p.endsAt,
  cutoffAt: p.cutoffAt,
  capacity: p.capacity,
  reserved: p.reserved,
  remaining: p.remaining,
  status: p.status,
});

const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Locations are never deleted: one seen to exist is remembered a while, so a crowd opening its public streams
  // checks it once. A missing one is asked again each time, as it may be created at any moment.
  const knownLocations = new Map<string, number>();
  async function requireLocation(locationId: string): Promise<void> {
    const seen = knownLocations.get(locationId);
    if (seen !== undefined && Date.now() - seen < 60_000) return;
    if (!(await app.repos.locations.locationExists(locationId))) throw notFound('Location');
    if (knownLocations.size >= 10_000) knownLocations.clear();
    knownLocations.set(locationId, Date.now());
  }

  app.get(
    '/v1/orders/:id/events',
    {
      onRequest: app.requireRole('customer', 'owner', 'operator'),
      schema: {
        tags: ['live'],
        summary: "An order's events as they happen, from the start (its customer, its location's owners, operators)",
        security: [{ bearer: [] }],
        produces: ['text/event-stream'],
        params: Type.Object({ id: Uuid }),
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            logEvents('order.placed', 'order.status', 'delivery.status'),
            "the event's payload with the order's short number and the time",
          ),
          ...ownStreamErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const ownership = await app.repos.orders.findOwnership(request.params.id);
      // Someone else's order answers exactly like a missing one, so ids cannot be probed.
      if (!ownership || !canSeeOrder(request.user!, ownership)) throw notFound('Order');
      await app.liveStreams.open(request, reply, {
        audience: 'order',
        streams: [streams.order(request.params.id)],
        project: withNumber,
      });
    },
  );

  app.get(
    '/v1/dashboard',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['live'],
        summary:
          "The owner's dashboard now: active orders of their locations, deliveries and drivers (the stream carries changes)",
        security: [{ bearer: [] }],
        response: { 200: Dashboard, ...errorResponses(401, 403) },
      },
    },
    async (request) => dashboardSnapshot(app.repos, request.user!.locationIds),
  );

  app.get(
    '/v1/dashboard/events',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['live'],
        summary: "The owner's dashboard live: orders to prep and deliveries to assign at the owner's locations",
        security: [{ bearer: [] }],
        produces: ['text/event-stream'],
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            ['snapshot', ...logEvents('order.status', 'delivery.status')],
            'snapshot: the dashboard (as GET /v1/dashboard); then each change with the order number',
          ),
          ...ownStreamErrors,
        },
      },
    },
    async (request, reply) => {
      const locationIds = request.user!.locationIds;
      await app.liveStreams.open(request, reply, {
        audience: 'dashboard',
        streams: locationIds.map(streams.location),
        types: ['order.status', 'delivery.status'],
        project: withNumber,
        snapshot: () => dashboardSnapshot(app.repos, locationIds),
      });
    },
  );

  app.get(
    '/v1/driver/events',
    {
      onRequest: app.requireRole('driver'),
      schema: {
        tags: ['live'],
        summary: "A driver's own deliveries live",
        security: [{ bearer: [] }],
        produces: ['text/event-stream'],
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            ['snapshot', ...logEvents('delivery.status')],
            "snapshot: the driver's deliveries; then each change with the order number",
          ),
          ...ownStreamErrors,
        },
      },
    },
    async (request, reply) => {
      const driverId = request.user!.id;
      await app.liveStreams.open(request, reply, {
        audience: 'driver',
        streams: [streams.driver(driverId)],
        types: ['delivery.status'],
        project: withNumber,
        snapshot: async () => {
          const deliveries = await app.repos.deliveries.list({ driverId, limit: 100 });
          return { deliveries: deliveries.map((d) => ({ ...d, number: orderNumber(d.orderId) })) };
        },
      });
    },
  );

  app.get(
    '/v1/locations/:id/slots/events',
    {
      schema: {
        tags: ['live'],
        summary:
          "A location's slots live: new slots, remaining capacity as others order, slots closing at cutoff, and which products' stock changed (public)",
        produces: ['text/event-stream'],
        params: Type.Object({ id: Uuid }),
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            ['snapshot', 'slot', 'stock'],
            'snapshot: the slots; slot: { slotId, startsAt, endsAt, cutoffAt, capacity, reserved, remaining, status }, the whole slot whether it is new (add it) or changed (replace it); stock: { productId } when units of that product were received, discounted or discarded here, or an order took its last units (read its availability again). Other reservations and releases by orders send no stock event: they show in availability on the next read',
          ),
          ...errorResponses(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      await requireLocation(request.params.id);
      await app.liveStreams.open(request, reply, {
        audience: 'slots',
        streams: [streams.location(request.params.id)],
        types: ['slot.capacity', 'slot.opened', ...STOCK_EVENTS],
        project: ({ type, payload }) =>
          type.startsWith('stock.')
            ? { type: 'stock', data: { productId: payload.productId } }
            : { type: 'slot', data: publicSlot(payload) },
        snapshot: () => slotsSnapshot(app.repos, request.params.id),
        sharedSnapshot: `slots:${request.params.id}`,
      });
    },
  );

  app.get(
    '/v1/locations/:id/events',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['live'],
        summary:
          "A location's back office live: slots opened and changed, stock received, discounted and discarded, the catalogue, production plans and the location's settings (its owners, operators)",
        security: [{ bearer: [] }],
        produces: ['text/event-stream'],
        params: Type.Object({ id: Uuid }),
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            ['snapshot', ...BACK_OFFICE_EVENTS],
            "snapshot: { locationId }, sent first (read the back office's lists once it arrives: every change after it follows); then each event's payload with the time it happened (at): slot.opened and slot.capacity { slotId, startsAt, endsAt, cutoffAt, capacity, reserved, remaining, status }; stock.received { lotId, productId, quantity, expiresAt }; stock.discounted { lotId, productId, discountFrom }; stock.discarded { lotId, productId, units, reason? (closing or staff) }; stock.sold_out { productId }; catalog.changed { productId }; production.changed { productId }; location.changed { locationId }",
          ),
          ...ownStreamErrors,
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const locationId = request.params.id;
      await assertManagesLocation(app, request.user!, locationId);
      await app.liveStreams.open(request, reply, {
        audience: 'back-office',
        streams: [streams.location(locationId), streams.catalog()],
        types: BACK_OFFICE_EVENTS,
        project: ({ type, payload, createdAt }) => ({ type, data: { ...payload, at: createdAt } }),
        // The back office reads its lists itself; the snapshot only marks where the stream starts.
        snapshot: async () => ({ locationId }),
      });
    },
  );

  app.get(
    '/v1/board/:locationId/events',
    {
      schema: {
        tags: ['live'],
        summary:
          'The public order board of a location: short order numbers being prepared, ready for collection or on their way, no personal data',
        produces: ['text/event-stream'],
        params: Type.Object({ locationId: Uuid }),
        headers: LastEventIdHeaders,
        response: {
          200: eventStream(
            ['snapshot', 'board'],
            `snapshot: the board; board: { number, state } with state one of ${BOARD_STATES.join(', ')}`,
          ),
          ...errorResponses(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      await requireLocation(request.params.locationId);
      await app.liveStreams.open(request, reply, {
        audience: 'board',
        streams: [streams.location(request.params.locationId)],
        types: ['order.status', 'order.board'],
        project: ({ type, payload }) => {
          // order.board takes a number off the board (its board hold passed) while the order still waits.
          const state =
            type === 'order.board' ? 'done' : typeof payload.status === 'string' ? boardState(payload.status) : null;
          if (!state || typeof payload.orderId !== 'string') return null;
          return { type: 'board', data: { number: orderNumber(payload.orderId), state } };
        },
        snapshot: () => boardSnapshot(app.repos, request.params.locationId),
        sharedSnapshot: `board:${request.params.locationId}`,
      });
    },
  );
};

export default streamRoutes;
