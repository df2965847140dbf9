// Order history: pages of orders, newest first, as a customer, an owner or an operator lists them. Read only; the
// orders repository writes these tables.
import type { Knex } from 'knex';
import { orderNumber, type Fulfilment, type OrderReason, type OrderStatus } from '../../domain/vocabulary.js';

/** An order in a list: what a history shows at a glance; GET /v1/orders/:id has the timeline. */
export interface OrderSummary {
  id: string;
  number: string;
  status: OrderStatus;
  reason: OrderReason | null;
  /** Null for a counter order. */
  customerId: string | null;
  locationId: string;
  fulfilment: Fulfilment;
  slotId: string | null;
  slotStartsAt: string | null;
  /** Until when a ready collection order waits at the counter. */
  collectBy: string | null;
  totalCents: number;
  items: { productId: string; quantity: number; unitPriceCents: number }[];
  createdAt: string;
  updatedAt: string;
}

/** Where a page ends: the last order's creation time, to the microsecond, as UTC text, and its id. */
export interface OrderKey {
  createdAt: string;
  orderId: string;
}

interface SummaryRow {
  id: string;
  status: OrderStatus;
  reason: OrderReason | null;
  customer_id: string | null;
  location_id: string;
  fulfilment: Fulfilment;
  slot_id: string | null;
  slot_starts_at: Date | null;
  collect_by: Date | null;
  total_cents: number;
  created_at: Date;
  /** created_at to the microsecond: a Date keeps only milliseconds, and the next page must start exactly after it. */
  created_key: string;
  updated_at: Date;
}

export function createOrderHistoryRepository(db: Knex) {
  return {
    /**
     * One page of orders, newest first. `customerId` and `locationIds` narrow what the caller may see; `locationId`
     * and `status` are the caller's own filters.
     */
    async page(opts: {
      customerId?: string;
      locationIds?: readonly string[];
      locationId?: string;
      status?: OrderStatus;
      after?: OrderKey;
      limit: number;
    }): Promise<{ items: OrderSummary[]; next: OrderKey | undefined }> {
      const query = db('orders')
        .select<SummaryRow[]>(
          'id',
          'status',
          'reason',
          'customer_id',
          'location_id',
          'fulfilment',
          'slot_id',
          'slot_starts_at',
          'collect_by',
          'total_cents',
          'created_at',
          'updated_at',
          db.raw(`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`),
        )
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        // One more than the page: whether it exists says whether there is a next page.
        .limit(opts.limit + 1);
      if (opts.customerId !== undefined) query.where({ customer_id: opts.customerId });
      if (opts.locationIds !== undefined) query.whereIn('location_id', opts.locationIds);
      if (opts.locationId !== undefined) query.where({ location_id: opts.locationId });
      if (opts.status !== undefined) query.where({ status: opts.status });
      if (opts.after) {
        query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [opts.after.createdAt, opts.after.orderId]);
      }
      const rows = await query;
      const page = rows.slice(0, opts.limit);
      const lines =
        page.length === 0
          ? []
          : await db('order_lines')
              .whereIn(
                'order_id',
                page.map((o) => o.id),
              )
              .orderBy([{ column: 'order_id' }, { column: 'product_id' }])
              .select<{ order_id: string; product_id: string; quantity: number; unit_price_cents: number }[]>(
                'order_id',
                'product_id',
                'quantity',
                'unit_price_cents',
              );
      const itemsOf = new Map<string, OrderSummary['items']>();
      for (const l of lines) {
        const items = itemsOf.get(l.order_id) ?? [];
        items.push({ productId: l.product_id, quantity: l.quantity, unitPriceCents: l.unit_price_cents });
        itemsOf.set(l.order_id, items);
      }
      const last = page.at(-1);
      return {
        items: page.map((o) => ({
          id: o.id,
          number: orderNumber(o.id),
          status: o.status,
          reason: o.reason,
          customerId: o.customer_id,
          locationId: o.location_id,
          fulfilment: o.fulfilment,
          slotId: o.slot_id,
          slotStartsAt: o.slot_starts_at?.toISOString() ?? null,
          collectBy: o.collect_by?.toISOString() ?? null,
          totalCents: o.total_cents,
          items: itemsOf.get(o.id) ?? [],
          createdAt: o.created_at.toISOString(),
          updatedAt: o.updated_at.toISOString(),
        })),
        next: rows.length > opts.limit && last ? { createdAt: last.created_key, orderId: last.id } : undefined,
      };
    },
  };
}

export type OrderHistoryRepository = ReturnType<typeof createOrderHistoryRepository>;
