// Examples of the account, token and staff routes: Ada runs Brick Lane Bakery, Cleo is a customer, Sam drives.
import { CUSTOMER, DRIVER, LOCATION, OWNER, several, type OperationExamples } from './examples-shared.js';

const BANK_ACCOUNT = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
const TOKEN_ID = '7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
const INVITATION = 'c0d1e2f3-a4b5-4c6d-8e7f-a0b1c2d3e4f5';
const INVITE_TOKEN = 'invite_Qm3xV8rT2kLp9sW4yZ7bN1cF5hJ6';

export const customerUser = {
  id: CUSTOMER,
  name: 'Cleo Marsh',
  email: 'cleo@example.com',
  role: 'customer',
  locationIds: [],
};
const driverUser = {
  id: DRIVER,
  name: 'Sam Okafor',
  email: 'sam@example.com',
  role: 'driver',
  locationIds: [LOCATION],
};
const csrf = {
  error: 'csrf_required',
  message: 'Requests made with the session cookie must send the header "x-csrf: 1"',
};
const invitation = {
  id: INVITATION,
  email: 'sam@example.com',
  role: 'driver',
  createdAt: '2025-03-14T09:00:00.000Z',
  expiresAt: '2025-03-21T09:00:00.000Z',
};

export const ACCOUNT_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/accounts': {
    body: { email: 'cleo@example.com', password: 'correct horse battery', name: 'Cleo Marsh' },
    responses: {
      201: { user: customerUser },
      409: { error: 'email_taken', message: 'An account with this email already exists; log in instead' },
      403: csrf,
    },
  },
  'GET /v1/me': {
    responses: {
      200: {
        user: customerUser,
        locations: [],
        bankAccount: { linked: true, accountNumber: BANK_ACCOUNT },
        testBankAccounts: true,
      },
    },
  },
  'PUT /v1/me/bank-account': {
    body: { accountNumber: BANK_ACCOUNT },
    responses: {
      200: { bankAccount: { linked: true, accountNumber: BANK_ACCOUNT } },
      422: {
        error: 'unknown_bank_account',
        message: `The bank has no account ${BANK_ACCOUNT}`,
        details: { field: '/body/accountNumber' },
      },
      503: { error: 'bank_unavailable', message: 'The bank did not answer; try again shortly' },
    },
  },
  'POST /v1/me/bank-account/test-account': {
    body: {},
    responses: {
      201: { bankAccount: { linked: true, accountNumber: BANK_ACCOUNT } },
      404: { error: 'not_found', message: 'Test bank accounts not found' },
      503: { error: 'bank_unavailable', message: 'The bank did not answer; try again shortly' },
    },
  },
  'POST /v1/me/tokens': {
    body: { name: 'stock sync script' },
    responses: {
      201: {
        id: TOKEN_ID,
        name: 'stock sync script',
        token: 'owner_Rk4nW9pZ2xQ7vL3mT8sY1bC6',
        createdAt: '2025-03-14T09:30:00.000Z',
      },
      409: { error: 'too_many_tokens', message: 'A user may hold 50 API tokens; revoke one first' },
    },
  },
  'GET /v1/me/tokens': {
    responses: {
      200: {
        tokens: [
          {
            id: TOKEN_ID,
            name: 'stock sync script',
            createdAt: '2025-03-14T09:30:00.000Z',
            lastUsedAt: '2025-03-14T11:02:00.000Z',
          },
        ],
      },
    },
  },
  'DELETE /v1/me/tokens/{id}': { responses: { 404: { error: 'not_found', message: 'Token not found' } } },
  'POST /v1/locations/{id}/staff': {
    body: { email: 'sam@example.com', role: 'driver' },
    responses: {
      201: { ...invitation, invitationUrl: `https://shop.example/invitation.html#${INVITE_TOKEN}` },
      409: several({
        role_conflict: {
          error: 'role_conflict',
          message: 'This email belongs to an account that is not a driver; invite another address',
        },
        already_staff: { error: 'already_staff', message: 'sam@example.com already works at this location' },
      }),
    },
  },
  'GET /v1/locations/{id}/staff': {
    responses: {
      200: {
        staff: [
          {
            userId: OWNER,
            name: 'Ada Lovell',
            email: 'ada@example.com',
            role: 'owner',
            since: '2025-01-02T08:00:00.000Z',
          },
        ],
        invitations: [invitation],
      },
    },
  },
  'DELETE /v1/locations/{id}/staff/{userId}': {
    responses: {
      404: { error: 'not_found', message: 'Staff member not found' },
      409: { error: 'last_owner', message: 'A location keeps at least one owner' },
    },
  },
  'DELETE /v1/locations/{id}/invitations/{invitationId}': {
    responses: { 404: { error: 'not_found', message: 'Invitation not found' } },
  },
  'GET /v1/invitations/{token}': {
    responses: {
      200: {
        email: 'sam@example.com',
        role: 'driver',
        location: { id: LOCATION, name: 'Brick Lane Bakery' },
        expiresAt: invitation.expiresAt,
        existingUser: false,
      },
      404: { error: 'not_found', message: 'Invitation not found' },
      409: { error: 'invitation_used', message: 'This invitation has already been accepted' },
      410: { error: 'invitation_expired', message: 'This invitation has expired; ask for a new one' },
    },
  },
  'POST /v1/invitations/{token}/accept': {
    body: { name: 'Sam Okafor', password: 'a long driver password' },
    responses: {
      200: { user: driverUser },
      401: { error: 'invalid_credentials', message: 'Wrong email or password' },
      409: several({
        invitation_used: { error: 'invitation_used', message: 'This invitation has already been accepted' },
        role_conflict: {
          error: 'role_conflict',
          message: 'This email belongs to an account that is not a driver; invite another address',
        },
      }),
      410: { error: 'invitation_expired', message: 'This invitation has expired; ask for a new one' },
    },
  },
};
