// What placing an order shares between the customer's POST /v1/orders and the counter's counter orders: the order's
// schemas as the API serves them, and starting its workflow with update-with-start.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { Type } from 'typebox';
import { utcDateTime, utcTime } from '../../workflows/details.js';
import { placementUpdate, searchAttributes, type OrderInput } from '../../workflows/messages.js';
import type { orderWorkflow } from '../../workflows/order.js';
import type { OrderView } from '../db/repositories/orders.js';
import { DeliveryStatus, EventType, Fulfilment, OrderReason, OrderStatus, orderNumber } from '../domain/vocabulary.js';
import { isRefusal, type Permit } from './admission.js';
import { conflict, overloaded } from './errors.js';
import { Cents, Uuid } from './schemas.js';

export const MAX_LINES_PER_ORDER = 50;
export const MAX_QUANTITY_PER_LINE = 100;

export const OrderLines = Type.Array(
  Type.Object(
    {
      productId: Uuid,
      quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY_PER_LINE }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: MAX_LINES_PER_ORDER },
);

export const OrderItems = Type.Array(Type.Object({ productId: Uuid, quantity: Type.Integer(), unitPriceCents: Cents }));

const Address = Type.Object({ lat: Type.Number(), lng: Type.Number(), line1: Type.String() });

export const Order = Type.Object({
  id: Uuid,
  status: OrderStatus,
  reason: Type.Union([OrderReason, Type.Null()]),
  customerId: Type.Union([Uuid, Type.Null()], { description: 'Null for a counter order' }),
  locationId: Uuid,
  slotId: Type.Union([Uuid, Type.Null()]),
  fulfilment: Fulfilment,
  label: Type.Union([Type.String(), Type.Null()], { description: "A counter order's name at the counter" }),
  collectBy: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description:
      "Until when a ready collection order waits at the counter (its window from the later of ready and the slot's start); null before it is ready, and for deliveries",
  }),
  totalCents: Cents,
  items: OrderItems,
  address: Type.Union([Address, Type.Null()], { description: 'Null for a collection order' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  timeline: Type.Array(
    Type.Object({
      id: Type.Integer(),
      type: EventType,
      /** An order status for order events, a delivery status for delivery events. */
      status: Type.Union([OrderStatus, DeliveryStatus, Type.Null()]),
      reason: Type.Union([OrderReason, Type.Null()]),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
});

/** An order in a history: GET /v1/orders/:id adds the address and the timeline. */
export const OrderSummary = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'The short number the board and the pages show' }),
  status: OrderStatus,
  reason: Type.Union([OrderReason, Type.Null()]),
  customerId: Type.Union([Uuid, Type.Null()], { description: 'Null for a counter order' }),
  locationId: Uuid,
  fulfilment: Fulfilment,
  slotId: Type.Union([Uuid, Type.Null()]),
  slotStartsAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  collectBy: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description:
      'Until when a ready collection order waits at the counter; null before it is ready, and for deliveries',
  }),
  totalCents: Cents,
  items: OrderItems,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

/** A collection order's timers from its location's settings. */
export async function collectionTimes(app: FastifyInstance, locationId: string): Promise<OrderInput['collection']> {
  const times = await app.repos.locations.findCollectionTimes(locationId);
  if (!times) return undefined;
  return { windowMs: times.collectionWindowMinutes * 60_000, boardHoldMs: times.boardHoldMinutes * 60_000 };
}

/** `£12.25`, as the pages show prices. */
const money = (cents: number) => `£${(cents / 100).toFixed(2)}`;

/**
 * The order's line in the Temporal Web UI's list and the top of its page: number, items, total at catalogue prices,
 * location and fulfilment. It names no person: no customer, address, bank account or counter label.
 */
export function orderSummary(input: OrderInput, locationName: string): string {
  const units = input.lines.reduce((sum, line) => sum + line.quantity, 0);
  const total = input.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const fulfilment = input.fulfilment === 'collection' ? 'collection' : 'delivery';
  const slot = input.slotStartsAt === null ? '' : ` ${utcTime(Date.parse(input.slotStartsAt))}`;
  return `Order ${orderNumber(input.orderId)} · ${units} ${units === 1 ? 'item' : 'items'} · ${money(total)} · ${locationName} · ${fulfilment}${slot}`;
}

/**
 * The order's static details in the Web UI (Temporal markdown): its ids, slot and lines (each product by name when
 * known, and by id), and again no person.
 */
export function orderDetails(
  input: OrderInput,
  locationName: string,
  products: ReadonlyMap<string, { name: string }> = new Map(),
): string {
  const slot =
    input.slotStartsAt === null
      ? 'none (counter)'
      : `${utcDateTime(Date.parse(input.slotStartsAt))} to ${utcTime(Date.parse(input.slotEndsAt))}`;
  return [
    `**Order** ${input.orderId}`,
    `**Location** ${locationName} (${input.locationId})`,
    `**Fulfilment** ${input.fulfilment ?? 'delivery'}`,
    `**Slot** ${slot}`,
    '**Lines**',
    ...input.lines.map((line) => {
      const name = products.get(line.productId)?.name;
      return `- ${line.quantity} × ${name ? `${name} (product ${line.productId})` : `product ${line.productId}`} at ${money(line.unitPriceCents)}`;
    }),
  ].join('\n');
}

/**
 * Runs a placement request under a place from admission control, taken before any of its lookups and writes: past
 * the system's peak a placement is refused at once with 503 overloaded, so turning a client away costs next to
 * nothing and the places left go to orders. The place is given back when the request ends, however it ends.
 */
export async function underAdmission<T>(
  app: FastifyInstance,
  request: FastifyRequest,
  handle: (permit: Permit | undefined) => Promise<T>,
): Promise<T> {
  const permit = await app.admission?.acquire();
  if (permit && isRefusal(permit)) {
    app.metrics.orderShed();
    request.log.warn({ retryAfterSeconds: permit.retryAfterSeconds }, 'order placement shed: overloaded');
    throw overloaded(permit.retryAfterSeconds);
  }
  try {
    return await handle(permit);
  } finally {
    permit?.release();
  }
}

/**
 * Starts the order's workflow (or attaches to the one a retried request started) and waits for placement. Answers
 * with the read model once stock and slot are held; a refusal is a 409 named by its reason.
 */
export async function placeOrder(
  app: FastifyInstance,
  request: FastifyRequest,
  input: OrderInput,
  /** The ordered products' names, for the workflow's details in the Web UI. */
  products: ReadonlyMap<string, { name: string }> | undefined,
  /** The request's place from admission control (underAdmission); it learns how long the placement took. */
  permit: Permit | undefined,
): Promise<OrderView> {
  const attributes: SearchAttributePair[] = [
    { key: searchAttributes.orderStatus, value: 'placed' },
    { key: searchAttributes.locationId, value: input.locationId },
  ];
  if (input.customerId !== null) attributes.push({ key: searchAttributes.customerId, value: input.customerId });
  if (input.slotStartsAt !== null)
    attributes.push({ key: searchAttributes.slotStart, value: new Date(input.slotStartsAt) });
  const locationName = (await app.repos.locations.findName(input.locationId))?.name ?? input.locationId;
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId: `order-${input.orderId}`,
    taskQueue: app.config.temporal.taskQueue,
    args: [input],
    // A retried request with the same Idempotency-Key attaches to the order it already started.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: attributes,
    staticSummary: orderSummary(input, locationName),
    staticDetails: orderDetails(input, locationName, products),
  });
  const admittedAt = performance.now();
  let state;
  try {
    state = await app.temporal.workflow.executeUpdateWithStart(placementUpdate, { startWorkflowOperation });
  } catch (err) {
    // The order already ran to its end under this key: answer with what it became.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  } finally {
    permit?.release(performance.now() - admittedAt);
  }
  const view = await app.repos.orders.findView(input.orderId);
  if (!view) throw new Error(`Order ${input.orderId} has no read model after placement`);
  if (state?.status === 'rejected') {
    app.metrics.orderRefused(state.reason ?? 'rejected');
    request.log.info({ reason: state.reason }, 'order refused at placement');
    throw conflict(state.reason ?? 'rejected', `The order was refused: ${state.reason}`, { orderId: input.orderId });
  }
  return view;
}
