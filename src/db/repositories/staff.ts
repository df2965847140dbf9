// Staff: the one writer of location_staff and staff_invitations. Who runs and who delivers for each location, and
// the single-use invitations that bring them in.
import type { Knex } from 'knex';
import { atomic } from '../knex.js';

import type { StaffRole } from '../../domain/vocabulary.js';

export type { StaffRole };

export interface StaffMember {
  userId: string;
  name: string;
  email: string | null;
  role: StaffRole;
  since: string;
}

export interface InvitationView {
  id: string;
  email: string;
  role: StaffRole;
  createdAt: string;
  expiresAt: string;
}

export interface InvitationRecord extends InvitationView {
  locationId: string;
  locationName: string;
  acceptedAt: string | null;
  withdrawnAt: string | null;
}

interface InvitationRow {
  id: string;
  location_id: string;
  email: string;
  role: StaffRole;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  withdrawn_at: Date | null;
}

const invitationView = (row: InvitationRow): InvitationView => ({
  id: row.id,
  email: row.email,
  role: row.role,
  createdAt: row.created_at.toISOString(),
  expiresAt: row.expires_at.toISOString(),
});

export function createStaffRepository(db: Knex) {
  return {
    /** Adds users to a location's staff; a user already there keeps their place. */
    async add(locationId: string, members: { userId: string; role: StaffRole }[], trx?: Knex.Transaction) {
      if (members.length === 0) return;
      await (trx ?? db)('location_staff')
        .insert(members.map((m) => ({ location_id: locationId, user_id: m.userId, role: m.role })))
        .onConflict(['location_id', 'user_id'])
        .ignore();
    },

    async list(locationId: string): Promise<StaffMember[]> {
      const rows = await db('location_staff as ls')
        .join('users as u', 'u.id', 'ls.user_id')
        .where('ls.location_id', locationId)
        .orderBy([{ column: 'ls.role', order: 'desc' }, { column: 'u.name' }, { column: 'u.id' }])
        .limit(500)
        .select<{ user_id: string; name: string; email: string | null; role: StaffRole; created_at: Date }[]>(
          'ls.user_id',
          'u.name',
          'u.email',
          'ls.role',
          'ls.created_at',
        );
      return rows.map((r) => ({
        userId: r.user_id,
        name: r.name,
        email: r.email,
        role: r.role,
        since: r.created_at.toISOString(),
      }));
    },

    /** The drivers of these locations by name, for an owner to assign deliveries to. */
    async drivers(locationIds: readonly string[]): Promise<{ id: string; name: string }[]> {
      if (locationIds.length === 0) return [];
      return db('location_staff as ls')
        .join('users as u', 'u.id', 'ls.user_id')
        .whereIn('ls.location_id', locationIds)
        .andWhere('ls.role', 'driver')
        .distinct('u.id', 'u.name')
        .orderBy('u.name')
        .limit(200);
    },

    async isDriverAt(userId: string, locationId: string): Promise<boolean> {
      const row = await db('location_staff')
        .where({ user_id: userId, location_id: locationId, role: 'driver' })
        .first('user_id');
      return row !== undefined;
    },

    /**
     * Removes a member. Refuses to remove a location's last owner ('last_owner'), under a lock on the location's
     * owners, so two owners removing each other cannot leave it with none.
     */
    async remove(locationId: string, userId: string): Promise<'removed' | 'not_found' | 'last_owner'> {
      return atomic(db, async (trx) => {
        const owners = await trx('location_staff')
          .where({ location_id: locationId, role: 'owner' })
          .forUpdate()
          .select<{ user_id: string }[]>('user_id');
        if (owners.length === 1 && owners[0]!.user_id === userId) return 'last_owner';
        const removed = await trx('location_staff').where({ location_id: locationId, user_id: userId }).delete();
        return removed > 0 ? 'removed' : 'not_found';
      });
    },

    async invite(invitation: {
      locationId: string;
      email: string;
      role: StaffRole;
      tokenHash: string;
      invitedBy: string;
      expiresAt: Date;
    }): Promise<InvitationView> {
      const [row] = await db('staff_invitations')
        .insert({
          location_id: invitation.locationId,
          email: invitation.email,
          role: invitation.role,
          token_hash: invitation.tokenHash,
          invited_by: invitation.invitedBy,
          expires_at: invitation.expiresAt,
        })
        .returning<InvitationRow[]>('*');
      return invitationView(row!);
    },

    /** A location's invitations that can still be accepted. */
    async pendingInvitations(locationId: string): Promise<InvitationView[]> {
      const rows = await db('staff_invitations')
        .where({ location_id: locationId })
        .whereNull('accepted_at')
        .whereNull('withdrawn_at')
        .andWhere('expires_at', '>', db.fn.now())
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }])
        .limit(500)
        .select<InvitationRow[]>('*');
      return rows.map(invitationView);
    },

    async findInvitation(tokenHash: string): Promise<InvitationRecord | undefined> {
      const row = await db('staff_invitations as i')
        .join('locations as l', 'l.id', 'i.location_id')
        .where('i.token_hash', tokenHash)
        .first<(InvitationRow & { location_name: string }) | undefined>('i.*', 'l.name as location_name');
      if (!row) return undefined;
      return {
        ...invitationView(row),
        locationId: row.location_id,
        locationName: row.location_name,
        acceptedAt: row.accepted_at?.toISOString() ?? null,
        withdrawnAt: row.withdrawn_at?.toISOString() ?? null,
      };
    },

    /**
     * Spends an invitation on a user and adds them to the staff, in one transaction (the caller's, when it has one):
     * false when it was
     * spent, withdrawn or expired in the meantime, so one link admits one person once.
     */
    async accept(invitationId: string, userId: string): Promise<boolean> {
      return atomic(db, async (trx) => {
        const [row] = await trx('staff_invitations')
          .where({ id: invitationId })
          .whereNull('accepted_at')
          .whereNull('withdrawn_at')
          .andWhere('expires_at', '>', trx.fn.now())
          .update({ accepted_at: trx.fn.now(), accepted_by: userId })
          .returning<{ location_id: string; role: StaffRole }[]>(['location_id', 'role']);
        if (!row) return false;
        await trx('location_staff')
          .insert({ location_id: row.location_id, user_id: userId, role: row.role })
          .onConflict(['location_id', 'user_id'])
          .merge(['role']);
        return true;
      });
    },

    /** The locations a user works at, with their names. */
    async locationsOf(userId: string): Promise<{ id: string; name: string; role: StaffRole }[]> {
      return db('location_staff as ls')
        .join('locations as l', 'l.id', 'ls.location_id')
        .where('ls.user_id', userId)
        .orderBy([{ column: 'l.name' }, { column: 'l.id' }])
        .select<{ id: string; name: string; role: StaffRole }[]>('l.id', 'l.name', 'ls.role');
    },

    async withdraw(locationId: string, invitationId: string): Promise<boolean> {
      const updated = await db('staff_invitations')
        .where({ id: invitationId, location_id: locationId })
        .whereNull('accepted_at')
        .whereNull('withdrawn_at')
        .update({ withdrawn_at: db.fn.now() });
      return updated > 0;
    },
  };
}
