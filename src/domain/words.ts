// The product's words, defined once: order and delivery statuses, reasons, event types and search attributes.
// Workflows, activities, the API's schemas, the pages, metrics and the Temporal setup all derive from this module, so
// it stays free of I/O, of anything a workflow may not import, and of any library: every workflow the worker starts
// runs its bundle's modules afresh, so what this module pulls in is paid for once per workflow.
export const ORDER_STATUSES = [
  'placed',
  'awaiting_payment',
  'confirmed',
  'prepping',
  'prepped',
  /** A collection order waits at the counter for its customer. */
  'ready_for_collection',
  'out_for_delivery',
  'completed',
  /** A collection order nobody came for within the location's collection window: sold, not refunded. */
  'uncollected',
  'rejected',
  'payment_failed',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses an order never leaves. */
export const TERMINAL_STATUSES: readonly OrderStatus[] = [
  'completed',
  'uncollected',
  'rejected',
  'payment_failed',
  'cancelled',
];
/** Statuses that ended the order without delivering it. */
export const FAILED_STATUSES: readonly OrderStatus[] = ['rejected', 'payment_failed', 'cancelled'];
/** A customer may cancel until prep starts. */
export const CANCELLABLE_STATUSES: readonly OrderStatus[] = ['placed', 'awaiting_payment', 'confirmed'];
/** Statuses a shop still has work to do for. */
export const ACTIVE_STATUSES: readonly OrderStatus[] = [
  'awaiting_payment',
  'confirmed',
  'prepping',
  'prepped',
  'ready_for_collection',
  'out_for_delivery',
];

export const isTerminal = (status: OrderStatus): boolean => TERMINAL_STATUSES.includes(status);
export const isCancellable = (status: OrderStatus): boolean => CANCELLABLE_STATUSES.includes(status);

/**
 * The order of statuses: the read model only ever moves forward, so a replayed step never steps it back. Terminal
 * statuses share the last rank.
 */
export const ORDER_STATUS_RANK: Record<OrderStatus, number> = {
  placed: 0,
  awaiting_payment: 1,
  confirmed: 2,
  prepping: 3,
  prepped: 4,
  // A collection order is never out for delivery, nor a delivery order ready for collection.
  ready_for_collection: 5,
  out_for_delivery: 5,
  completed: 6,
  uncollected: 6,
  rejected: 6,
  payment_failed: 6,
  cancelled: 6,
};

/** How an order reaches its customer: delivered by a driver, or collected at the location's counter. */
export const FULFILMENTS = ['delivery', 'collection'] as const;
export type Fulfilment = (typeof FULFILMENTS)[number];

export const ORDER_REASONS = [
  'out_of_stock',
  'slot_full',
  'slot_closed',
  'insufficient_funds',
  'declined',
  /** The bank refused the charge request itself (an account it no longer knows, say). */
  'charge_refused',
  'payment_timeout',
  'customer_cancelled',
  /** The staff of the order's location cancelled a counter or collection order. */
  'staff_cancelled',
  'operator_cancelled',
  /** The workflow was terminated, failed or timed out; the reconcile sweep gave back what it held. */
  'workflow_ended',
] as const;
export type OrderReason = (typeof ORDER_REASONS)[number];

export const DELIVERY_STATUSES = ['pending', 'assigned', 'picked_up', 'delivered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DELIVERY_STATUS_RANK: Record<DeliveryStatus, number> = {
  pending: 0,
  assigned: 1,
  picked_up: 2,
  delivered: 3,
};

export const SLOT_STATUSES = ['open', 'closed', 'finished'] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

export const LOCATION_KINDS = ['bakery', 'kitchen', 'dc'] as const;
export type LocationKind = (typeof LOCATION_KINDS)[number];

/** What a product is or holds, as customers filter on it; the database refuses any other tag. */
export const PRODUCT_TAGS = [
  'vegan',
  'vegetarian',
  'gluten_free',
  'dairy_free',
  'contains_nuts',
  'halal',
  'organic',
] as const;
export type ProductTag = (typeof PRODUCT_TAGS)[number];

/** How a page of availability is ordered: by name (the default), by list price, or by the nearest stocking location. */
export const AVAILABILITY_SORTS = ['name', 'price', 'distance'] as const;
export type AvailabilitySort = (typeof AVAILABILITY_SORTS)[number];

export const ROLES = ['customer', 'owner', 'driver', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** The roles a user can hold at a location: staff run it or deliver for it. */
export const STAFF_ROLES = ['owner', 'driver'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * What the public board says about an order, by its status; statuses it does not show are absent. `ready` is ready
 * for collection; `done` takes the number off the board (the order ended, or it waited there for the location's
 * board hold).
 */
export const BOARD_STATES = ['preparing', 'ready', 'out_for_delivery', 'done'] as const;
export type BoardState = (typeof BOARD_STATES)[number];
export const BOARD_STATE_OF: Partial<Record<OrderStatus, BoardState>> = {
  prepping: 'preparing',
  // A delivery order waits in the shop for its driver.
  prepped: 'preparing',
  ready_for_collection: 'ready',
  out_for_delivery: 'out_for_delivery',
  completed: 'done',
  uncollected: 'done',
  cancelled: 'done',
  rejected: 'done',
  payment_failed: 'done',
};

/** Types of the events in the durable log, as live streams and their consumers see them. */
export const EVENT_TYPES = [
  'order.placed',
  'order.status',
  /** A ready number left the board after the location's board hold; the order itself is unchanged. */
  'order.board',
  'delivery.status',
  'slot.capacity',
  /** A slot was created (by the planner from the weekly plan): the whole slot as customers see it. */
  'slot.opened',
  'stock.received',
  'stock.discounted',
  'stock.discarded',
  /** An order took a product's last fresh units at the location: { productId }. */
  'stock.sold_out',
  /** A product was added or changed: { productId }. Products belong to no location, so this is on the catalog stream. */
  'catalog.changed',
  /** A location's production plan for a product was set, stopped, paused or resumed: { productId }. */
  'production.changed',
  /** A location's own settings (name, delivery radius, opening hours) changed: { locationId }. */
  'location.changed',
  /** A location's webhook endpoint was disabled: its receiver answered 410, or kept failing past the retry window. */
  'webhook.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The event types a webhook endpoint subscribes to, derived from the log's: an order's status change is
 * `order.<status>`, a delivery's `delivery.<status>`, a slot's closing `slot.closed`. `webhook.test` is what "send test
 * event" sends.
 */
export const WEBHOOK_EVENT_TYPES = [
  ...ORDER_STATUSES.map((status) => `order.${status}` as const),
  /** A ready number left the public board after the board hold; the order still waits at the counter. */
  'order.left_board',
  ...DELIVERY_STATUSES.map((status) => `delivery.${status}` as const),
  /** A slot was opened, by the weekly plan or by hand. */
  'slot.opened',
  /** An open slot's remaining capacity changed. */
  'slot.capacity',
  'slot.closed',
  'slot.finished',
  'stock.received',
  'stock.discounted',
  'stock.discarded',
  'stock.sold_out',
  /** The location's production plan for a product was set, stopped, paused or resumed. */
  'production.changed',
  /** The location's own settings changed. */
  'location.changed',
  'webhook.disabled',
  'webhook.test',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A delivery waits for its next attempt, reached its receiver, or was given up after the retry window. */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** Why an endpoint stopped receiving: its owner turned it off, its receiver answered 410 Gone, or it kept failing. */
export const WEBHOOK_DISABLED_REASONS = ['owner', 'gone', 'failing'] as const;
export type WebhookDisabledReason = (typeof WEBHOOK_DISABLED_REASONS)[number];

/**
 * Search attributes operators filter on in the Web UI, with their Temporal types. The dev server, the time-skipping
 * test server and the compose setup register exactly these.
 */
export const SEARCH_ATTRIBUTES = {
  OrderStatus: 'Keyword',
  LocationId: 'Keyword',
  CustomerId: 'Keyword',
  SlotStart: 'Datetime',
  DriverId: 'Keyword',
  /** True while a compensation step keeps failing on the order. */
  CompensationFailing: 'Bool',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
export type SearchAttributeKind = (typeof SEARCH_ATTRIBUTES)[SearchAttributeName];

/** The short number the public board and the customer show for an order: not the id, and no personal data. */
export function orderNumber(orderId: string): string {
  return orderId.replace(/-/g, '').slice(0, 4).toUpperCase();
}

/**
 * What a kitchen or POS system may tell us about an order, each the same step as an owner's button: prep started,
 * prep done, a collection order handed over at the counter.
 */
export const KITCHEN_EVENT_TYPES = ['order.prepping', 'order.prepped', 'order.collected'] as const;
export type KitchenEventType = (typeof KITCHEN_EVENT_TYPES)[number];
