// What each live view shows when it first connects; its stream then carries the changes, so these are read once per connection.
import type { Repositories } from '../db/repositories/index.js';
import {
  BOARD_STATE_OF,
  orderNumber,
  type BoardState,
  type DeliveryStatus,
  type OrderStatus,
  type SlotStatus,
} from '../domain/vocabulary.js';

/** What the board says about an order status, or null when the board does not show it. */
export function boardState(status: string): BoardState | null {
  return Object.hasOwn(BOARD_STATE_OF, status) ? (BOARD_STATE_OF[status as OrderStatus] ?? null) : null;
}

export interface SlotView {
  id: string;
  startsAt: string;
  endsAt: string;
  cutoffAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  status: SlotStatus;
}

type SnapshotRepositories = Pick<Repositories, 'locations' | 'orders' | 'slots' | 'users'>;

export async function slotsSnapshot(
  repos: SnapshotRepositories,
  locationId: string,
): Promise<{ locationId: string; slots: SlotView[] }> {
  const slots = await repos.slots.upcoming(locationId);
  return {
    locationId,
    slots: slots.map((s) => ({
      id: s.id,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      cutoffAt: s.cutoffAt,
      capacity: s.capacity,
      reserved: s.reserved,
      remaining: s.remaining,
      status: s.status,
    })),
  };
}

export async function boardSnapshot(
  repos: SnapshotRepositories,
  locationId: string,
): Promise<{ location: { id: string; name: string }; orders: { number: string; state: string }[] }> {
  const location = (await repos.locations.findName(locationId))!;
  const rows = await repos.orders.onBoard(locationId);
  return { location, orders: rows.map((r) => ({ number: orderNumber(r.id), state: boardState(r.status)! })) };
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

export async function dashboardSnapshot(
  repos: SnapshotRepositories,
  locationIds: readonly string[],
): Promise<{
  locations: { id: string; name: string }[];
  drivers: { id: string; name: string }[];
  orders: DashboardOrder[];
}> {
  const [locations, drivers, orders] = await Promise.all([
    repos.locations.names(locationIds),
    repos.users.drivers(),
    repos.orders.active(locationIds),
  ]);
  return {
    locations,
    drivers,
    orders: orders.map((o) => ({
      id: o.id,
      number: orderNumber(o.id),
      locationId: o.locationId,
      status: o.status,
      totalCents: o.totalCents,
      slotStartsAt: o.slotStartsAt,
      items: o.items,
      delivery: o.delivery,
    })),
  };
}
