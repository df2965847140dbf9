// Users: the one writer of users. Who a token belongs to, the locations their owners run, and their bank accounts.
import type { Knex } from 'knex';
import type { Role } from '../../domain/vocabulary.js';

export type { Role };

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
      return {
        id: row.id,
        name: row.name,
        role: row.role,
        locationIds: row.location_ids.filter((x): x is string => x !== null),
      };
    },

    async bankAccountOf(userId: string): Promise<string | null> {
      const row = await db('users')
        .where({ id: userId })
        .first<{ bank_account_id: string | null } | undefined>('bank_account_id');
      return row?.bank_account_id ?? null;
    },

    /** The user's bank account link: undefined when there is no such user, null when it has no account yet. */
    async findBankAccount(userId: string): Promise<{ bankAccountId: string | null } | undefined> {
      const row = await db('users')
        .where({ id: userId })
        .first<{ bank_account_id: string | null } | undefined>('bank_account_id');
      return row && { bankAccountId: row.bank_account_id };
    },

    async linkBankAccount(userId: string, bankAccountId: string): Promise<void> {
      await db('users').where({ id: userId }).update({ bank_account_id: bankAccountId });
    },

    /** Drivers by name, for an owner to assign deliveries to. */
    async drivers(): Promise<{ id: string; name: string }[]> {
      return db('users')
        .where({ role: 'driver' })
        .orderBy('name')
        .limit(200)
        .select<{ id: string; name: string }[]>('id', 'name');
    },

    async isDriver(userId: string): Promise<boolean> {
      return (await db('users').where({ id: userId, role: 'driver' }).first('id')) !== undefined;
    },

    async create(
      user: { id?: string; name: string; role: Role; tokenHash: string },
      trx?: Knex.Transaction,
    ): Promise<string> {
      const [row] = await (trx ?? db)('users')
        .insert({ ...(user.id ? { id: user.id } : {}), name: user.name, role: user.role, token_hash: user.tokenHash })
        .returning<{ id: string }[]>('id');
      return row!.id;
    },
  };
}
