// What each live view shows when it first connects; its stream then carries the changes, so these are read once per connection.
import type { Knex } from 'knex';
import type { DeliveryStatus, OrderStatus } from '../domain/vocabulary.js';

/** The short number the public board and the customer show for an order: not the id, and no personal data. */
export function boardNumber(orderId: string): string {
  return orderId.replace(/-/g, '').slice(0, 4).toUpperCase();
}

/** What the board says about an order status, or null when the board does not show it. */
export function boardState(status: string): 'ready' | 'out_for_delivery' | 'done' | null {
  switch (status) {
    case 'prepped':
      return 'ready';
    case 'out_for_delivery':
      return 'out_for_delivery';
    case 'completed':
    case 'cancelled':
    case 'rejected':
    case 'payment_failed':
      return 'done';
    default:
      return null;
  }
}

export interface SlotView {
  id: string;
  startsAt: string;
  endsAt: string;
  cutoffAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  status: string;
}

export async function slotsSnapshot(db: Knex, locationId: string): Promise<{ locationId: string; slots: SlotView[] }> {
  const rows = await db('slots')
    .where({ location_id: locationId })
    .andWhere('ends_at', '>', db.fn.now())
    .orderBy('starts_at')
    .limit(100)
    .select<{ id: string; starts_at: Date; ends_at: Date; cutoff_at: Date; capacity: number; reserved: number; status: string }[]>(
      'id', 'starts_at', 'ends_at', 'cutoff_at', 'capacity', 'reserved', 'status',
    );
  return {
    locationId,
    slots: rows.map((r) => ({
      id: r.id,
      startsAt: r.starts_at.toISOString(),
      endsAt: r.ends_at.toISOString(),
      cutoffAt: r.cutoff_at.toISOString(),
      capacity: r.capacity,
      reserved: r.reserved,
      remaining: r.capacity - r.reserved,
      status: r.status,
    })),
  };
}

export async function boardSnapshot(db: Knex, locationId: string): Promise<{ location: { id: string; name: string }; orders: { number: string; state: string }[] }> {
  const location = await db('locations').where({ id: locationId }).first<{ id: string; name: string }>('id', 'name');
  const rows = await db('orders')
    .where({ location_id: locationId })
    .whereIn('status', ['prepped', 'out_for_delivery'])
    // Yesterday's forgotten orders would only clutter the screen.
    .andWhere('updated_at', '>', db.raw("now() - interval '12 hours'"))
    .orderBy('updated_at')
    .limit(200)
    .select<{ id: string; status: string }[]>('id', 'status');
  return { location, orders: rows.map((r) => ({ number: boardNumber(r.id), state: boardState(r.status)! })) };
}

export interface DashboardOrder {
  id: string;
  number: string;
  locationId: string;
  status: OrderStatus;
  totalCents: number;
  slotStartsAt: string | null;
  items: { name: string; quantity: number }[];
  delivery: { status: DeliveryStatus; driverId: string | null } | null;
}

const ACTIVE_STATUSES = ['awaiting_payment', 'confirmed', 'prepping', 'prepped', 'out_for_delivery'];

export async function dashboardSnapshot(db: Knex, locationIds: readonly string[]): Promise<{
  locations: { id: string; name: string }[];
  drivers: { id: string; name: string }[];
  orders: DashboardOrder[];
}> {
  const [locations, drivers, orders] = await Promise.all([
    db('locations').whereIn('id', locationIds).orderBy('name').select<{ id: string; name: string }[]>('id', 'name'),
    db('users').where({ role: 'driver' }).orderBy('name').limit(200).select<{ id: string; name: string }[]>('id', 'name'),
    db('orders as o')
      .leftJoin('deliveries as d', 'd.order_id', 'o.id')
      .whereIn('o.location_id', locationIds)
      .whereIn('o.status', ACTIVE_STATUSES)
      .orderBy([{ column: 'o.slot_starts_at', order: 'asc' }, { column: 'o.created_at', order: 'asc' }])
      .limit(300)
      .select<{ id: string; location_id: string; status: OrderStatus; total_cents: number; slot_starts_at: Date | null; delivery_status: DeliveryStatus | null; driver_id: string | null }[]>(
        'o.id', 'o.location_id', 'o.status', 'o.total_cents', 'o.slot_starts_at', 'd.status as delivery_status', 'd.driver_id',
      ),
  ]);
  const lines = orders.length === 0 ? [] : await db('order_lines as l')
    .join('products as p', 'p.id', 'l.product_id')
    .whereIn('l.order_id', orders.map((o) => o.id))
    .orderBy('p.name')
    .select<{ order_id: string; name: string; quantity: number }[]>('l.order_id', 'p.name', 'l.quantity');
  const itemsOf = new Map<string, { name: string; quantity: number }[]>();
  for (const line of lines) {
    const items = itemsOf.get(line.order_id) ?? [];
    items.push({ name: line.name, quantity: line.quantity });
    itemsOf.set(line.order_id, items);
  }
  return {
    locations,
    drivers,
    orders: orders.map((o) => ({
      id: o.id,
      number: boardNumber(o.id),
      locationId: o.location_id,
      status: o.status,
      totalCents: o.total_cents,
      slotStartsAt: o.slot_starts_at?.toISOString() ?? null,
      items: itemsOf.get(o.id) ?? [],
      delivery: o.delivery_status ? { status: o.delivery_status, driverId: o.driver_id } : null,
    })),
  };
}
