// Credentials: the one writer of credentials. API tokens users name for their scripts and the sessions pages log in
// with, both stored only as hashes; who a presented token stands for, and when it was last used.
import type { Knex } from 'knex';
import { userColumns, userView, type User } from './users.js';

export type CredentialKind = 'api' | 'session';

export interface Caller {
  user: User;
  credential: { id: string; kind: CredentialKind };
}

export interface ApiTokenView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Last use is written at most this often per credential, so authenticating stays a read. */
const LAST_USED_RESOLUTION = "interval '1 minute'";

export function createCredentialRepository(db: Knex) {
  return {
    /** The user and credential an unexpired token hash stands for; marks its use. */
    async callerByTokenHash(tokenHash: string): Promise<Caller | undefined> {
      const row = await db
        .with('c', (q) =>
          q
            .from('credentials')
            .where({ token_hash: tokenHash })
            .andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
            .select('id', 'user_id', 'kind'),
        )
        .with(
          'touched',
          db.raw(
            `UPDATE credentials t SET last_used_at = now() FROM c
             WHERE t.id = c.id AND (t.last_used_at IS NULL OR t.last_used_at < now() - ${LAST_USED_RESOLUTION})
             RETURNING t.id`,
          ),
        )
        .from('c')
        .join('users as u', 'u.id', 'c.user_id')
        .first<
          | {
              id: string;
              name: string;
              email: string | null;
              role: User['role'];
              location_ids: string[];
              credential_id: string;
              kind: CredentialKind;
            }
          | undefined
        >(...userColumns(db), 'c.id as credential_id', 'c.kind');
      if (!row) return undefined;
      return { user: userView(row), credential: { id: row.credential_id, kind: row.kind } };
    },

    async issue(
      credential: { userId: string; kind: CredentialKind; name: string; tokenHash: string; expiresAt?: Date },
      trx?: Knex.Transaction,
    ): Promise<ApiTokenView> {
      const [row] = await (trx ?? db)('credentials')
        .insert({
          user_id: credential.userId,
          kind: credential.kind,
          name: credential.name,
          token_hash: credential.tokenHash,
          expires_at: credential.expiresAt ?? null,
        })
        .returning<{ id: string; name: string; created_at: Date; last_used_at: Date | null }[]>([
          'id',
          'name',
          'created_at',
          'last_used_at',
        ]);
      return tokenView(row!);
    },

    /** A user's API tokens, newest first; never their values. */
    async apiTokens(userId: string, limit: number): Promise<ApiTokenView[]> {
      const rows = await db('credentials')
        .where({ user_id: userId, kind: 'api' })
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit)
        .select<{ id: string; name: string; created_at: Date; last_used_at: Date | null }[]>(
          'id',
          'name',
          'created_at',
          'last_used_at',
        );
      return rows.map(tokenView);
    },

    /**
     * Issues an API token unless the user already holds `max`; undefined then. Issues for one user take turns (a lock
     * on the user's id for the transaction), so requests at the same moment cannot pass the count together.
     */
    async issueApiToken(
      credential: { userId: string; name: string; tokenHash: string },
      max: number,
    ): Promise<ApiTokenView | undefined> {
      return db.transaction(async (trx) => {
        await trx.raw("SELECT pg_advisory_xact_lock(hashtextextended('api-tokens:' || ?, 0))", [credential.userId]);
        const row = await trx('credentials')
          .where({ user_id: credential.userId, kind: 'api' })
          .count<{ n: string }>('* as n')
          .first();
        if (Number(row?.n ?? 0) >= max) return undefined;
        return this.issue({ ...credential, kind: 'api' }, trx);
      });
    },

    /** Revokes one of the user's API tokens at once; false when the user has no such token. */
    async revokeApiToken(userId: string, id: string): Promise<boolean> {
      return (await db('credentials').where({ id, user_id: userId, kind: 'api' }).delete()) > 0;
    },

    /** Ends a session; an API token presented through a page's cookie is left alone. */
    async endSession(id: string): Promise<void> {
      await db('credentials').where({ id, kind: 'session' }).delete();
    },

    /** Deletes sessions past their expiry; returns how many. */
    async sweepExpiredSessions(): Promise<number> {
      return db('credentials').where('kind', 'session').andWhere('expires_at', '<=', db.fn.now()).delete();
    },
  };
}

function tokenView(row: { id: string; name: string; created_at: Date; last_used_at: Date | null }): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}
