// The product's words as TypeBox schemas, for the API's request and response schemas and the pages; the words
// themselves, and the types, are in words.ts, which workflows import without TypeBox.
// The schemas are marked pure so a page's bundle drops the ones it does not use, and TypeBox with them.
import { Type, type Static } from 'typebox';
import {
  AVAILABILITY_SORTS,
  BOARD_STATES,
  DELIVERY_STATUSES,
  EVENT_TYPES,
  FULFILMENTS,
  KITCHEN_EVENT_TYPES,
  LOCATION_KINDS,
  ORDER_REASONS,
  ORDER_STATUSES,
  PRODUCT_TAGS,
  ROLES,
  SLOT_STATUSES,
  STAFF_ROLES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_DISABLED_REASONS,
  WEBHOOK_EVENT_TYPES,
} from './words.js';

export * from './words.js';

export const OrderStatus = /* @__PURE__ */ Type.Enum(ORDER_STATUSES, { description: 'Where the order is in its life' });
export type OrderStatus = Static<typeof OrderStatus>;

export const Fulfilment = /* @__PURE__ */ Type.Enum(FULFILMENTS, {
  description: 'delivery: a driver brings it to the address; collection: the customer picks it up at the location',
});
export type Fulfilment = Static<typeof Fulfilment>;

export const OrderReason = /* @__PURE__ */ Type.Enum(ORDER_REASONS, {
  description: 'Why the order ended without being delivered',
});
export type OrderReason = Static<typeof OrderReason>;

export const DeliveryStatus = /* @__PURE__ */ Type.Enum(DELIVERY_STATUSES, {
  description: "Where the order's delivery is",
});
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const SlotStatus = /* @__PURE__ */ Type.Enum(SLOT_STATUSES, {
  description: 'open takes orders; closed is past its cutoff; finished is over',
});
export type SlotStatus = Static<typeof SlotStatus>;

export const LocationKind = /* @__PURE__ */ Type.Enum(LOCATION_KINDS);
export type LocationKind = Static<typeof LocationKind>;

export const ProductTag = /* @__PURE__ */ Type.Enum(PRODUCT_TAGS);
export type ProductTag = Static<typeof ProductTag>;

export const AvailabilitySort = /* @__PURE__ */ Type.Enum(AVAILABILITY_SORTS, {
  description:
    'name (the default): by name; price: cheapest list price first; distance: nearest stocking location first',
});
export type AvailabilitySort = Static<typeof AvailabilitySort>;

export const Role = /* @__PURE__ */ Type.Enum(ROLES);
export type Role = Static<typeof Role>;

export const StaffRole = /* @__PURE__ */ Type.Enum(STAFF_ROLES);
export type StaffRole = Static<typeof StaffRole>;

export const BoardState = /* @__PURE__ */ Type.Enum(BOARD_STATES);
export type BoardState = Static<typeof BoardState>;

export const EventType = /* @__PURE__ */ Type.Enum(EVENT_TYPES);
export type EventType = Static<typeof EventType>;

export const WebhookEventType = /* @__PURE__ */ Type.Enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = Static<typeof WebhookEventType>;

export const WebhookDeliveryStatus = /* @__PURE__ */ Type.Enum(WEBHOOK_DELIVERY_STATUSES);
export type WebhookDeliveryStatus = Static<typeof WebhookDeliveryStatus>;

export const WebhookDisabledReason = /* @__PURE__ */ Type.Enum(WEBHOOK_DISABLED_REASONS);
export type WebhookDisabledReason = Static<typeof WebhookDisabledReason>;

export const KitchenEventType = /* @__PURE__ */ Type.Enum(KITCHEN_EVENT_TYPES);
export type KitchenEventType = Static<typeof KitchenEventType>;
