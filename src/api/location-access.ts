// Who may read a location's own records (stock, slot plan, production): its owners and operators. Anyone else is
// answered as if the location did not exist, so ids cannot be probed.
import type { FastifyInstance } from 'fastify';
import type { User } from '../db/repositories/users.js';
import { notFound } from './errors.js';

export async function assertManagesLocation(app: FastifyInstance, user: User, locationId: string): Promise<void> {
  const allowed =
    user.role === 'operator'
      ? await app.repos.locations.locationExists(locationId)
      : user.role === 'owner' && user.locationIds.includes(locationId);
  if (!allowed) throw notFound('Location');
}
