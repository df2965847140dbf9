// Users: the one writer of users. Accounts with their email and password hash, the caller a credential stands for,
// and bank account links.
import type { Knex } from 'knex';
import type { Role } from '../../domain/vocabulary.js';

export type { Role };

export interface User {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  /** Locations an owner runs or a driver delivers for; empty for customers and operators. */
  locationIds: string[];
}

export interface LoginRecord {
  id: string;
  role: Role;
  passwordHash: string | null;
}

/** Emails are compared as the address people type: without surrounding spaces, in any case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  role: Role;
  location_ids: string[];
}

/** The user columns with the locations they work at, for a query over `users as u`. */
export function userColumns(db: Knex) {
  return [
    'u.id',
    'u.name',
    'u.email',
    'u.role',
    db.raw(
      `coalesce((SELECT array_agg(ls.location_id ORDER BY ls.location_id) FROM location_staff ls WHERE ls.user_id = u.id), '{}') AS location_ids`,
    ),
  ];
}

export function userView(row: UserRow): User {
  return { id: row.id, name: row.name, email: row.email, role: row.role, locationIds: row.location_ids };
}

export function createUserRepository(db: Knex) {
  return {
    async find(userId: string): Promise<User | undefined> {
      const row = await db('users as u')
        .where('u.id', userId)
        .first<UserRow | undefined>(...userColumns(db));
      return row && userView(row);
    },

    /** What a password login needs to know of an email; undefined when no account has it. */
    async loginRecord(email: string): Promise<LoginRecord | undefined> {
      const row = await db('users')
        .where({ email: normalizeEmail(email) })
        .first<{ id: string; role: Role; password_hash: string | null } | undefined>('id', 'role', 'password_hash');
      return row && { id: row.id, role: row.role, passwordHash: row.password_hash };
    },

    /**
     * Creates a user; undefined when another account already has the email or the id (the unique indexes decide, so
     * two sign-ups racing for one address cannot both win).
     */
    async create(
      user: { id?: string; name: string; role: Role; email?: string; passwordHash?: string },
      trx?: Knex.Transaction,
    ): Promise<string | undefined> {
      const rows = await (trx ?? db)('users')
        .insert({
          ...(user.id ? { id: user.id } : {}),
          name: user.name,
          role: user.role,
          email: user.email === undefined ? null : normalizeEmail(user.email),
          password_hash: user.passwordHash ?? null,
        })
        .onConflict()
        .ignore()
        .returning<{ id: string }[]>('id');
      return rows[0]?.id;
    },

    async setPassword(userId: string, passwordHash: string): Promise<void> {
      await db('users').where({ id: userId }).update({ password_hash: passwordHash });
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
  };
}
