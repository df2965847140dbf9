// Who may see an order: one rule for reading it and for following its live events.
import type { User } from '../db/repositories/users.js';

export function canSeeOrder(
  user: User,
  order: { customerId: string | null; locationId: string; driverId: string | null },
): boolean {
  switch (user.role) {
    case 'operator':
      return true;
    case 'customer':
      return order.customerId === user.id;
    case 'owner':
      return user.locationIds.includes(order.locationId);
    case 'driver':
      return order.driverId === user.id;
  }
}
