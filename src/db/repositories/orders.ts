// The order read model: the one writer of orders, order_lines and idempotency_keys. Orders, their lines and timeline
// as the API shows them; the status moves only forward, with its event in the same transaction.
import type { Knex } from 'knex';
import {
  ACTIVE_STATUSES,
  BOARD_STATE_OF,
  ORDER_STATUS_RANK,
  ORDER_STATUSES,
  type DeliveryStatus,
  type EventType,
  type Fulfilment,
  type OrderReason,
  type OrderStatus,
} from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { currentTraceparent } from '../../telemetry/context.js';
import { atomic } from '../knex.js';
import { appendEvent, changeAndTell } from './events.js';

export interface OrderView {
  id: string;
  status: OrderStatus;
  reason: OrderReason | null;
  /** Null for a counter order: it has no customer account. */
  customerId: string | null;
  locationId: string;
  slotId: string | null;
  fulfilment: Fulfilment;
  /** The name a counter order is called by at the counter. */
  label: string | null;
  /** ISO UTC: until when a ready collection order waits at the counter; null before it is ready, and for deliveries. */
  collectBy: string | null;
  totalCents: number;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  /** Null for a collection order. */
  address: { lat: number; lng: number; line1: string } | null;
  createdAt: string;
  updatedAt: string;
  timeline: {
    id: number;
    type: EventType;
    status: OrderStatus | DeliveryStatus | null;
    reason: OrderReason | null;
    at: string;
  }[];
}

/** An order as the workflow places it: written once, with its lines at list price. */
export interface NewOrder {
  orderId: string;
  customerId: string | null;
  locationId: string;
  slotId: string | null;
  slotStartsAt: string | null;
  address: { lat: number; lng: number; line1: string } | null;
  fulfilment?: Fulfilment;
  label?: string | null;
  lines: { productId: string; quantity: number; unitPriceCents: number }[];
}

export interface OrderStatusChange {
  orderId: string;
  status: OrderStatus;
  reason?: OrderReason | null;
  totalCents?: number;
  chargeId?: string;
  /** Exact line amounts from the stock reservation. */
  lineAmounts?: { productId: string; amountCents: number }[];
  /** ISO UTC: until when a ready collection order waits at the counter. */
  collectBy?: string;
}

/** An active order as the owner's dashboard shows it first, with its delivery when there is one. */
export interface ActiveOrderRow {
  id: string;
  locationId: string;
  status: OrderStatus;
  totalCents: number;
  slotStartsAt: string | null;
  items: { name: string; quantity: number }[];
  delivery: { status: DeliveryStatus; driverId: string | null } | null;
}

interface OrderRow {
  id: string;
  status: OrderStatus;
  reason: OrderReason | null;
  customer_id: string | null;
  location_id: string;
  slot_id: string | null;
  fulfilment: Fulfilment;
  label: string | null;
  collect_by: Date | null;
  total_cents: number;
  address: OrderView['address'];
  created_at: Date;
  updated_at: Date;
}

interface OrderViewRow extends OrderRow {
  items: OrderView['items'];
  timeline: OrderView['timeline'];
}

/** An order's row, its lines in product order and the first TIMELINE_EVENTS of its stream, in one statement. */
const TIMELINE_EVENTS = 500;
const FIND_VIEW = `
  SELECT o.id, o.status, o.reason, o.customer_id, o.location_id, o.slot_id, o.fulfilment, o.label, o.collect_by,
         o.total_cents, o.address, o.created_at, o.updated_at,
         coalesce((SELECT json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity,
                                                     'unitPriceCents', l.unit_price_cents) ORDER BY l.product_id)
                   FROM order_lines l WHERE l.order_id = o.id), '[]'::json) AS items,
         coalesce((SELECT json_agg(json_build_object(
                     'id', e.id, 'type', e.type,
                     'status', CASE WHEN jsonb_typeof(e.payload -> 'status') = 'string' THEN e.payload ->> 'status' END,
                     'reason', CASE WHEN jsonb_typeof(e.payload -> 'reason') = 'string' THEN e.payload ->> 'reason' END,
                     'at', e.created_at) ORDER BY e.id)
                   FROM (SELECT id, type, payload, created_at FROM events WHERE stream = ? ORDER BY id
                         LIMIT ${TIMELINE_EVENTS}) e), '[]'::json) AS timeline
  FROM orders o WHERE o.id = ?`;

/** The statuses an order may move to `status` from. */
export function orderStatusesBefore(status: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((s) => ORDER_STATUS_RANK[s] < ORDER_STATUS_RANK[status]);
}

/** Statuses the public board shows. */
const ON_BOARD_BEFORE_DONE = ORDER_STATUSES.filter(
  (s) => BOARD_STATE_OF[s] !== undefined && BOARD_STATE_OF[s] !== 'done',
);

export function createOrderRepository(db: Knex) {
  return {
    /** Who may see an order: its customer, its location's owners and the driver assigned to it. */
    async findOwnership(
      orderId: string,
    ): Promise<
      { customerId: string | null; locationId: string; driverId: string | null; fulfilment: Fulfilment } | undefined
    > {
      const row = await db('orders as o')
        .leftJoin('deliveries as d', 'd.order_id', 'o.id')
        .where('o.id', orderId)
        .first<
          | { customer_id: string | null; location_id: string; driver_id: string | null; fulfilment: Fulfilment }
          | undefined
        >('o.customer_id', 'o.location_id', 'd.driver_id', 'o.fulfilment');
      return (
        row && {
          customerId: row.customer_id,
          locationId: row.location_id,
          driverId: row.driver_id,
          fulfilment: row.fulfilment,
        }
      );
    },

    /** The traceparent the order was placed under, when it was placed while tracing was on. */
    async findTraceparent(orderId: string): Promise<string | undefined> {
      const row = await db('orders')
        .where({ id: orderId })
        .first<{ traceparent: string | null } | undefined>('traceparent');
      return row?.traceparent ?? undefined;
    },

    /** The order as the API shows it, with its lines and its timeline (the order's stream), in one statement. */
    async findView(orderId: string): Promise<OrderView | undefined> {
      const { rows } = await db.raw<{ rows: OrderViewRow[] }>(FIND_VIEW, [streams.order(orderId), orderId]);
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        status: row.status,
        reason: row.reason,
        customerId: row.customer_id,
        locationId: row.location_id,
        slotId: row.slot_id,
        fulfilment: row.fulfilment,
        label: row.label,
        collectBy: row.collect_by?.toISOString() ?? null,
        totalCents: row.total_cents,
        items: row.items,
        address: row.address,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
        // The log holds only what activities wrote from the vocabulary; JSON gives its times with an offset.
        timeline: row.timeline.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      };
    },

    /** The order's status and charge as the read model has them; undefined when it was never recorded. */
    async findStatus(orderId: string): Promise<{ status: OrderStatus; chargeId: string | null } | undefined> {
      const row = await db('orders')
        .where({ id: orderId })
        .first<{ status: OrderStatus; charge_id: string | null } | undefined>('status', 'charge_id');
      return row && { status: row.status, chargeId: row.charge_id };
    },

    /** Claims an Idempotency-Key for a new order, or returns the order and body hash it already maps to. */
    async claimIdempotencyKey(
      customerId: string,
      key: string,
      requestHash: string,
      orderId: string,
    ): Promise<{ orderId: string; requestHash: string; fresh: boolean }> {
      const inserted = await db('idempotency_keys')
        .insert({ customer_id: customerId, key, request_hash: requestHash, order_id: orderId })
        .onConflict(['customer_id', 'key'])
        .ignore()
        .returning('order_id');
      if (inserted.length > 0) return { orderId, requestHash, fresh: true };
      const existing = await db('idempotency_keys')
        .where({ customer_id: customerId, key })
        .first<{ order_id: string; request_hash: string }>();
      return { orderId: existing.order_id, requestHash: existing.request_hash, fresh: false };
    },

    /** Writes the order and its lines once, with its placed event, in one transaction; false when already there. */
    async recordPlaced(order: NewOrder): Promise<boolean> {
      return atomic(db, async (trx) => {
        const totalCents = order.lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
        const inserted = await trx('orders')
          .insert({
            id: order.orderId,
            customer_id: order.customerId,
            location_id: order.locationId,
            slot_id: order.slotId,
            slot_starts_at: order.slotStartsAt,
            status: 'placed',
            total_cents: totalCents,
            address: order.address,
            fulfilment: order.fulfilment ?? 'delivery',
            label: order.label ?? null,
            // The placement's trace, for the order's later steps to continue (none while tracing is off).
            traceparent: currentTraceparent() ?? null,
          })
          .onConflict('id')
          .ignore()
          .returning('id');
        if (inserted.length === 0) return false;
        await trx('order_lines').insert(
          order.lines.map((l) => ({
            order_id: order.orderId,
            product_id: l.productId,
            quantity: l.quantity,
            unit_price_cents: l.unitPriceCents,
          })),
        );
        // Announced on the order's stream only; the location's webhooks hear it all the same.
        await appendEvent(
          trx,
          streams.order(order.orderId),
          'order.placed',
          { orderId: order.orderId, status: 'placed', totalCents },
          { webhookLocationId: order.locationId },
        );
        return true;
      });
    },

    /**
     * Moves the read model forward and appends the change to the order's and the location's streams, in one statement;
     * a repeat (or a step back) changes nothing and appends nothing.
     */
    async writeStatus(change: OrderStatusChange): Promise<void> {
      const { orderId, status } = change;
      const sets: [string, unknown][] = [
        ['status', status],
        ['reason', change.reason ?? null],
      ];
      if (change.totalCents !== undefined) sets.push(['total_cents', change.totalCents]);
      if (change.chargeId !== undefined) sets.push(['charge_id', change.chargeId]);
      if (change.collectBy !== undefined) sets.push(['collect_by', new Date(change.collectBy)]);
      const lines = change.lineAmounts ?? [];
      // The total comes from the row as it is after the change.
      const payload = {
        orderId,
        status,
        reason: change.reason ?? null,
        ...(change.collectBy === undefined ? {} : { collectBy: change.collectBy }),
      };
      await changeAndTell(db, {
        change: {
          sql: `updated AS (
              UPDATE orders SET ${sets.map(([column]) => `${column} = ?`).join(', ')}, updated_at = CURRENT_TIMESTAMP
              WHERE id = ? AND status = ANY(?::text[])
              RETURNING location_id, total_cents
            )${
              lines.length === 0
                ? ''
                : `, priced AS (
              UPDATE order_lines l SET unit_price_cents = round(a.amount_cents::numeric / l.quantity)
              FROM updated, unnest(?::uuid[], ?::bigint[]) AS a(product_id, amount_cents)
              WHERE l.order_id = ? AND l.product_id = a.product_id
            )`
            }`,
          bindings: [
            ...sets.map(([, value]) => value),
            orderId,
            orderStatusesBefore(status),
            ...(lines.length === 0 ? [] : [lines.map((l) => l.productId), lines.map((l) => l.amountCents), orderId]),
          ],
        },
        told: {
          sql: `SELECT s.stream, s.n, ?::jsonb || jsonb_build_object('totalCents', u.total_cents) AS payload,
                       CASE WHEN s.n = 2 THEN u.location_id END AS webhook_location
                FROM updated u, LATERAL (VALUES (?::text, 1), (? || u.location_id, 2)) AS s(stream, n)`,
          bindings: [JSON.stringify(payload), streams.order(orderId), streams.location('')],
        },
        type: 'order.status',
        payload,
        // The location's stream is named by the row; the span names what is known before.
        streamsForSpan: [streams.order(orderId)],
      });
    },

    /** Takes a ready order's number off the public board while it still waits; once only, and only while ready. */
    async leaveBoard(orderId: string): Promise<void> {
      await atomic(db, async (trx) => {
        const updated = await trx('orders')
          .where({ id: orderId, status: 'ready_for_collection' })
          .whereNull('off_board_at')
          .update({ off_board_at: trx.fn.now() })
          .returning<{ location_id: string }[]>('location_id');
        if (updated.length === 0) return;
        await appendEvent(trx, streams.location(updated[0]!.location_id), 'order.board', { orderId, state: 'done' });
      });
    },

    /** Orders by status, with the count bounded by a statement timeout so a slow database delays, never piles up. */
    async countByStatus(timeoutMs: number): Promise<Map<string, number>> {
      const rows = await db.transaction(async (trx): Promise<{ status: string; count: string | number }[]> => {
        await trx.raw(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
        return trx('orders').select('status').count('* as count').groupBy('status');
      });
      return new Map(rows.map((row) => [row.status, Number(row.count)]));
    },

    /** The location's orders the public board shows now (preparing, ready or on its way, updated in the last 12 hours). */
    async onBoard(locationId: string): Promise<{ id: string; status: OrderStatus }[]> {
      return (
        db('orders')
          .where({ location_id: locationId })
          .whereIn('status', ON_BOARD_BEFORE_DONE)
          .whereNull('off_board_at')
          // Yesterday's forgotten orders would only clutter the screen.
          .andWhere('updated_at', '>', db.raw("now() - interval '12 hours'"))
          .orderBy('updated_at')
          .limit(200)
          .select<{ id: string; status: OrderStatus }[]>('id', 'status')
      );
    },

    /** The active orders of these locations, by slot then age, with their items and delivery. */
    async active(locationIds: readonly string[]): Promise<ActiveOrderRow[]> {
      const orders = await db('orders as o')
        .leftJoin('deliveries as d', 'd.order_id', 'o.id')
        .whereIn('o.location_id', locationIds)
        .whereIn('o.status', ACTIVE_STATUSES)
        .orderBy([
          { column: 'o.slot_starts_at', order: 'asc' },
          { column: 'o.created_at', order: 'asc' },
        ])
        .limit(300)
        .select<
          {
            id: string;
            location_id: string;
            status: OrderStatus;
            total_cents: number;
            slot_starts_at: Date | null;
            delivery_status: DeliveryStatus | null;
            driver_id: string | null;
          }[]
        >(
          'o.id',
          'o.location_id',
          'o.status',
          'o.total_cents',
          'o.slot_starts_at',
          'd.status as delivery_status',
          'd.driver_id',
        );
      const lines =
        orders.length === 0
          ? []
          : await db('order_lines as l')
              .join('products as p', 'p.id', 'l.product_id')
              .whereIn(
                'l.order_id',
                orders.map((o) => o.id),
              )
              .orderBy('p.name')
              .select<{ order_id: string; name: string; quantity: number }[]>('l.order_id', 'p.name', 'l.quantity');
      const itemsOf = new Map<string, { name: string; quantity: number }[]>();
      for (const line of lines) {
        const items = itemsOf.get(line.order_id) ?? [];
        items.push({ name: line.name, quantity: line.quantity });
        itemsOf.set(line.order_id, items);
      }
      return orders.map((o) => ({
        id: o.id,
        locationId: o.location_id,
        status: o.status,
        totalCents: o.total_cents,
        slotStartsAt: o.slot_starts_at?.toISOString() ?? null,
        items: itemsOf.get(o.id) ?? [],
        delivery: o.delivery_status ? { status: o.delivery_status, driverId: o.driver_id } : null,
      }));
    },
  };
}

export type OrderRepository = ReturnType<typeof createOrderRepository>;
