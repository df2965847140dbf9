// Staff by invitation: an owner (or an operator) invites an email as owner or driver with a single-use link that
// lasts 7 days; accepting it creates the account or adds an existing one; removal takes effect on the next request.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { StaffRole } from '../../domain/vocabulary.js';
import { loginThrottle } from '../../auth/login-throttle.js';
import { hashPassword, verifyPassword } from '../../auth/passwords.js';
import { hashToken, newToken } from '../../auth/tokens.js';
import { normalizeEmail } from '../../db/repositories/users.js';
import { ApiError, conflict, notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { Email, errorResponses, Password, PersonName, SessionUser, Uuid } from '../schemas.js';
import { requireCsrfHeader, startSession } from '../session-cookie.js';
import { invalidCredentials } from './session.js';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Staff and pending invitations one location may have: its whole list fits one answer. */
export const MAX_STAFF = 200;

const Timestamp = Type.String({ format: 'date-time' });
const Invitation = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: StaffRole,
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
const LocationParams = Type.Object({ id: Uuid });
// Links carry 39 characters; Fastify refuses any path parameter past 100 before routing.
const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 100 }) });

const roleConflict = (role: string) =>
  conflict('role_conflict', `This email belongs to an account that is not a ${role}; invite another address`);

const staffRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const throttle = loginThrottle(app.repos, app.config.loginThrottle);
  const staffManagers = app.requireRole('owner', 'operator');

  /** Owners manage the staff of their own locations; operators any location's. Others' answer as missing. */
  const managedLocation = (request: FastifyRequest, locationId: string) =>
    assertManagesLocation(app, request.user!, locationId);

  const origin = (request: FastifyRequest) => app.config.publicUrl ?? `${request.protocol}://${request.host}`;

  app.post(
    '/v1/locations/:id/staff',
    {
      onRequest: staffManagers,
      schema: {
        tags: ['staff'],
        summary: 'Invite someone to work at the location as owner or driver: a single-use link valid for 7 days',
        security: [{ bearer: [] }],
        params: LocationParams,
        body: Type.Object({ email: Email, role: StaffRole }, { additionalProperties: false }),
        response: {
          201: Type.Object({ ...Invitation.properties, invitationUrl: Type.String({ format: 'uri' }) }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const locationId = request.params.id;
      await managedLocation(request, locationId);
      const email = normalizeEmail(request.body.email);
      const { role } = request.body;
      const existing = await app.repos.users.loginRecord(email);
      if (existing && existing.role !== role) throw roleConflict(role);
      const [staff, pending] = await Promise.all([
        app.repos.staff.list(locationId),
        app.repos.staff.pendingInvitations(locationId),
      ]);
      if (existing && staff.some((m) => m.userId === existing.id))
        throw conflict('already_staff', `${email} already works at this location`);
      if (staff.length + pending.length >= MAX_STAFF)
        throw conflict('staff_limit', `A location has at most ${MAX_STAFF} staff and pending invitations`);
      // The link is the credential: only its hash is kept, so the table cannot be read for links.
      const token = newToken('invite');
      const invitation = await app.repos.staff.invite({
        locationId,
        email,
        role,
        tokenHash: hashToken(token),
        invitedBy: request.user!.id,
        expiresAt: new Date(Date.now() + INVITATION_TTL_MS),
      });
      return reply.code(201).send({ ...invitation, invitationUrl: `${origin(request)}/invitation.html#${token}` });
    },
  );

  app.get(
    '/v1/locations/:id/staff',
    {
      onRequest: staffManagers,
      schema: {
        tags: ['staff'],
        summary: `The location's owners and drivers, and the invitations still pending: the whole list (at most ${MAX_STAFF})`,
        security: [{ bearer: [] }],
        params: LocationParams,
        response: {
          200: Type.Object({
            staff: Type.Array(
              Type.Object({
                userId: Uuid,
                name: Type.String(),
                email: Type.Union([Type.String(), Type.Null()]),
                role: StaffRole,
                since: Timestamp,
              }),
            ),
            invitations: Type.Array(Invitation),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      await managedLocation(request, request.params.id);
      const [staff, invitations] = await Promise.all([
        app.repos.staff.list(request.params.id),
        app.repos.staff.pendingInvitations(request.params.id),
      ]);
      return { staff, invitations };
    },
  );

  app.delete(
    '/v1/locations/:id/staff/:userId',
    {
      onRequest: staffManagers,
      schema: {
        tags: ['staff'],
        summary: 'Remove someone from the staff: their sessions and tokens stop working for this location at once',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid, userId: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await managedLocation(request, request.params.id);
      const outcome = await app.repos.staff.remove(request.params.id, request.params.userId);
      if (outcome === 'not_found') throw notFound('Staff member');
      if (outcome === 'last_owner') throw conflict('last_owner', 'A location keeps at least one owner');
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/v1/locations/:id/invitations/:invitationId',
    {
      onRequest: staffManagers,
      schema: {
        tags: ['staff'],
        summary: 'Withdraw a pending invitation: its link stops working',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid, invitationId: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await managedLocation(request, request.params.id);
      if (!(await app.repos.staff.withdraw(request.params.id, request.params.invitationId)))
        throw notFound('Invitation');
      return reply.code(204).send(null);
    },
  );

  /** The invitation a link stands for, refused when it can no longer be accepted. */
  async function openInvitation(token: string) {
    const invitation = await app.repos.staff.findInvitation(hashToken(token));
    if (!invitation || invitation.withdrawnAt) throw notFound('Invitation');
    if (invitation.acceptedAt) throw conflict('invitation_used', 'This invitation has already been accepted');
    if (Date.parse(invitation.expiresAt) <= Date.now())
      throw new ApiError(410, 'invitation_expired', 'This invitation has expired; ask for a new one');
    return invitation;
  }

  app.get(
    '/v1/invitations/:token',
    {
      schema: {
        tags: ['staff'],
        summary: 'What an invitation link offers: the location, the role, and whether the email has an account',
        params: TokenParams,
        response: {
          200: Type.Object({
            email: Type.String(),
            role: StaffRole,
            location: Type.Object({ id: Uuid, name: Type.String() }),
            expiresAt: Timestamp,
            existingUser: Type.Boolean(),
          }),
          ...errorResponses(400, 401, 404, 409, 410),
        },
      },
    },
    async (request) => {
      const invitation = await openInvitation(request.params.token);
      return {
        email: invitation.email,
        role: invitation.role,
        location: { id: invitation.locationId, name: invitation.locationName },
        expiresAt: invitation.expiresAt,
        existingUser: (await app.repos.users.loginRecord(invitation.email)) !== undefined,
      };
    },
  );

  app.post(
    '/v1/invitations/:token/accept',
    {
      schema: {
        tags: ['staff'],
        summary:
          'Accept an invitation: creates the account with this password, or (for an existing account) checks it; logs the page in',
        params: TokenParams,
        body: Type.Object({ name: Type.Optional(PersonName), password: Password }, { additionalProperties: false }),
        response: {
          200: Type.Object({ user: SessionUser }),
          ...errorResponses(400, 401, 403, 404, 409, 410, 429),
        },
      },
    },
    async (request, reply) => {
      requireCsrfHeader(request);
      const invitation = await openInvitation(request.params.token);
      const { password, name } = request.body;
      let userId: string;
      const existing = await app.repos.users.loginRecord(invitation.email);
      if (existing) {
        const attempt = await throttle.admit(invitation.email, request.ip);
        if (!(await verifyPassword(existing.passwordHash, password))) {
          await attempt.failed();
          throw invalidCredentials();
        }
        await attempt.succeeded();
        if (existing.role !== invitation.role) throw roleConflict(invitation.role);
        userId = existing.id;
      } else {
        if (!name) throw new ApiError(400, 'validation_failed', 'body must have property name for a new account');
        const created = await app.repos.users.create({
          name: name.trim(),
          role: invitation.role,
          email: invitation.email,
          passwordHash: await hashPassword(password),
        });
        // Someone signed up with this email since the link was opened: accept again to join with that account.
        if (!created)
          throw conflict('email_taken', 'An account with this email was just created; accept again to join it');
        userId = created;
      }
      if (!(await app.repos.staff.accept(invitation.id, userId)))
        throw conflict('invitation_used', 'This invitation has already been accepted');
      await startSession(app.repos, reply, userId);
      return { user: (await app.repos.users.find(userId))! };
    },
  );
};

export default staffRoutes;
