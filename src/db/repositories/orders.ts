// The order read model: orders, their lines and timeline, as the API shows them.
import type { Knex } from 'knex';
import { readStream, streams } from '../../events/log.js';
import type { DeliveryStatus, EventType, OrderReason, OrderStatus } from '../../domain/vocabulary.js';

export interface OrderView {
  id: string;
  status: OrderStatus;
  reason: OrderReason | null;
  customerId: string;
  locationId: string;
  slotId: string | null;
  totalCents: number;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  address: { lat: number; lng: number; line1: string };
  createdAt: string;
  updatedAt: string;
  timeline: { id: number; type: EventType; status: OrderStatus | DeliveryStatus | null; reason: OrderReason | null; at: string }[];
}

interface OrderRow {
  id: string;
  status: OrderStatus;
  reason: OrderReason | null;
  customer_id: string;
  location_id: string;
  slot_id: string | null;
  total_cents: number;
  address: OrderView['address'];
  created_at: Date;
  updated_at: Date;
}

export function createOrderRepository(db: Knex) {
  return {
    /** Who may see an order: its customer, its location's owners and the driver assigned to it. */
    async findOwnership(orderId: string): Promise<{ customerId: string; locationId: string; driverId: string | null } | undefined> {
      const row = await db('orders as o')
        .leftJoin('deliveries as d', 'd.order_id', 'o.id')
        .where('o.id', orderId)
        .first<{ customer_id: string; location_id: string; driver_id: string | null } | undefined>('o.customer_id', 'o.location_id', 'd.driver_id');
      return row && { customerId: row.customer_id, locationId: row.location_id, driverId: row.driver_id };
    },

    async findView(orderId: string): Promise<OrderView | undefined> {
      const row = await db('orders').where({ id: orderId }).first<OrderRow | undefined>();
      if (!row) return undefined;
      const [lines, events] = await Promise.all([
        db('order_lines').where({ order_id: orderId }).orderBy('product_id').select<{ product_id: string; quantity: number; unit_price_cents: number }[]>(),
        readStream(db, streams.order(orderId)),
      ]);
      return {
        id: row.id,
        status: row.status,
        reason: row.reason,
        customerId: row.customer_id,
        locationId: row.location_id,
        slotId: row.slot_id,
        totalCents: row.total_cents,
        items: lines.map((l) => ({ productId: l.product_id, quantity: l.quantity, unitPriceCents: l.unit_price_cents })),
        address: row.address,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        timeline: events.map((e) => ({
          id: e.id,
          // The log holds only what activities wrote from the vocabulary.
          type: e.type as EventType,
          status: typeof e.payload.status === 'string' ? (e.payload.status as OrderStatus | DeliveryStatus) : null,
          reason: typeof e.payload.reason === 'string' ? (e.payload.reason as OrderReason) : null,
          at: e.createdAt,
        })),
      };
    },

    /** Claims an Idempotency-Key for a new order, or returns the order and body hash it already maps to. */
    async claimIdempotencyKey(customerId: string, key: string, requestHash: string, orderId: string): Promise<{ orderId: string; requestHash: string; fresh: boolean }> {
      const inserted = await db('idempotency_keys')
        .insert({ customer_id: customerId, key, request_hash: requestHash, order_id: orderId })
        .onConflict(['customer_id', 'key'])
        .ignore()
        .returning('order_id');
      if (inserted.length > 0) return { orderId, requestHash, fresh: true };
      const existing = await db('idempotency_keys').where({ customer_id: customerId, key }).first<{ order_id: string; request_hash: string }>();
      return { orderId: existing.order_id, requestHash: existing.request_hash, fresh: false };
    },
  };
}
