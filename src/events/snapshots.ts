// What each live view shows when it first connects; its stream then carries the changes, so these are read once per connection.
import type { Repositories } from '../db/repositories/index.js';
import type { ActiveOrderRow } from '../db/repositories/orders.js';
import type { SlotView as RepositorySlotView } from '../db/repositories/slots.js';
import { BOARD_STATE_OF, orderNumber, type BoardState, type OrderStatus } from '../domain/vocabulary.js';

/** What the board says about an order status, or null when the board does not show it. */
export function boardState(status: string): BoardState | null {
  return Object.hasOwn(BOARD_STATE_OF, status) ? (BOARD_STATE_OF[status as OrderStatus] ?? null) : null;
}

/** A slot as the customer's live view shows it: the location is the stream's own. */
export type SlotView = Omit<RepositorySlotView, 'locationId'>;

type SnapshotRepositories = Pick<Repositories, 'locations' | 'orders' | 'slots' | 'staff'>;

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

/** An active order on the owner's dashboard: the repository's row with the order's short number. */
export type DashboardOrder = ActiveOrderRow & { number: string };

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
    repos.staff.drivers(locationIds),
    repos.orders.active(locationIds),
  ]);
  return {
    locations,
    drivers,
    orders: orders.map((o) => ({ ...o, number: orderNumber(o.id) })),
  };
}
