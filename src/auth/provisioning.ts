// Users made outside the sign-up flow: the demo seed, the operator command, tests and benches. Each gets an API token.
import type { Repositories, UnitOfWork } from '../db/repositories/index.js';
import type { Role } from '../domain/vocabulary.js';
import { hashPassword } from './passwords.js';
import { hashToken, newToken } from './tokens.js';

export interface NewUser {
  /** A fixed id (the demo seed's, stable across restarts); a new one when unset. */
  id?: string;
  name: string;
  role: Role;
  email?: string;
  password?: string;
  /** Locations an owner runs or a driver delivers for. */
  locationIds?: string[];
  /** The API token to issue (the demo seed's, stable across restarts); a new one when unset. */
  token?: string;
  tokenName?: string;
}

/**
 * Creates the user with an API token, and staff places for owners and drivers, in one transaction. With a fixed id
 * that already exists nothing is created and the existing id is returned (the token is issued once).
 */
export async function provisionUser(
  repos: Pick<Repositories, 'transaction'>,
  user: NewUser,
): Promise<{ id: string; token: string; created: boolean }> {
  const token = user.token ?? newToken(`${user.role}`);
  const passwordHash = user.password === undefined ? undefined : await hashPassword(user.password);
  return repos.transaction(async (tx: UnitOfWork) => {
    const id = await tx.users.create({
      id: user.id,
      name: user.name,
      role: user.role,
      email: user.email,
      passwordHash,
    });
    if (!id) {
      if (user.id) return { id: user.id, token, created: false };
      throw new Error(`An account with the email ${user.email} already exists`);
    }
    await tx.credentials.issue({
      userId: id,
      kind: 'api',
      name: user.tokenName ?? 'default',
      tokenHash: hashToken(token),
    });
    if ((user.role === 'owner' || user.role === 'driver') && user.locationIds?.length) {
      for (const locationId of user.locationIds) await tx.staff.add(locationId, [{ userId: id, role: user.role }]);
    }
    return { id, token, created: true };
  });
}
