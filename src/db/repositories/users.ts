// Users and the locations their owners run.
import type { Knex } from 'knex';

export type Role = 'customer' | 'owner' | 'driver' | 'operator';

export interface User {
  id: string;
  name: string;
  role: Role;
  /** Locations an owner runs; empty for everyone else. */
  locationIds: string[];
}

export function createUserRepository(db: Knex) {
  return {
    async findByTokenHash(tokenHash: string): Promise<User | undefined> {
      const row = await db('users as u')
        .leftJoin('location_owners as lo', 'lo.user_id', 'u.id')
        .where('u.token_hash', tokenHash)
        .groupBy('u.id')
        .first<{ id: string; name: string; role: Role; location_ids: (string | null)[] } | undefined>(
          'u.id',
          'u.name',
          'u.role',
          db.raw('array_agg(lo.location_id) as location_ids'),
        );
      if (!row) return undefined;
      return { id: row.id, name: row.name, role: row.role, locationIds: row.location_ids.filter((x): x is string => x !== null) };
    },

    async bankAccountOf(userId: string): Promise<string | null> {
      const row = await db('users').where({ id: userId }).first<{ bank_account_id: string | null } | undefined>('bank_account_id');
      return row?.bank_account_id ?? null;
    },

    async isDriver(userId: string): Promise<boolean> {
      return (await db('users').where({ id: userId, role: 'driver' }).first('id')) !== undefined;
    },

    async create(user: { id?: string; name: string; role: Role; tokenHash: string }, trx?: Knex.Transaction): Promise<string> {
      const [row] = await (trx ?? db)('users')
        .insert({ ...(user.id ? { id: user.id } : {}), name: user.name, role: user.role, token_hash: user.tokenHash })
        .returning<{ id: string }[]>('id');
      return row!.id;
    },
  };
}
