// Accounts: customers sign up with an email and a password, see themselves, and link the bank account they pay with.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { StaffRole } from '../../domain/vocabulary.js';
import { hashPassword } from '../../auth/passwords.js';
import { BankRequestError } from '../../bank/client.js';
import { ApiError, conflict, notFound, unprocessable } from '../errors.js';
import { Email, errorResponses, Password, PersonName, SessionUser, Uuid } from '../schemas.js';
import { requireCsrfHeader, startSession } from '../session-cookie.js';

const BankAccount = Type.Object({
  linked: Type.Boolean(),
  accountNumber: Type.Union([Uuid, Type.Null()]),
});

/** What a test account opened from the sign-up page starts with: enough for many orders. */
const TEST_ACCOUNT_BALANCE_CENTS = 100_000;

const bankUnavailable = () =>
  new ApiError(503, 'bank_unavailable', 'The bank did not answer; try again shortly', undefined, {
    'retry-after': '5',
  });

const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Sign up as a customer: creates the account and logs the page in (send the header x-csrf: 1)',
        body: Type.Object({ email: Email, password: Password, name: PersonName }, { additionalProperties: false }),
        response: { 201: Type.Object({ user: SessionUser }), ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      requireCsrfHeader(request);
      const { email, password, name } = request.body;
      const passwordHash = await hashPassword(password);
      const userId = await app.repos.users.create({ name: name.trim(), role: 'customer', email, passwordHash });
      if (!userId) throw conflict('email_taken', 'An account with this email already exists; log in instead');
      await startSession(app.repos, reply, userId);
      return reply.code(201).send({ user: (await app.repos.users.find(userId))! });
    },
  );

  app.get(
    '/v1/me',
    {
      onRequest: app.requireRole('customer', 'owner', 'driver', 'operator'),
      schema: {
        tags: ['accounts'],
        summary: 'The caller: who they are, where they work, and whether they can pay',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            user: SessionUser,
            locations: Type.Array(
              Type.Object({
                id: Uuid,
                name: Type.String(),
                role: StaffRole,
              }),
            ),
            bankAccount: BankAccount,
            testBankAccounts: Type.Boolean({ description: 'The bank opens test accounts: the pages offer one' }),
          }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const user = request.user!;
      const [locations, accountNumber] = await Promise.all([
        app.repos.staff.locationsOf(user.id),
        app.repos.users.bankAccountOf(user.id),
      ]);
      return {
        user,
        locations,
        bankAccount: { linked: accountNumber !== null, accountNumber },
        testBankAccounts: app.config.bank.testAccounts,
      };
    },
  );

  app.put(
    '/v1/me/bank-account',
    {
      onRequest: app.requireRole('customer'),
      schema: {
        tags: ['accounts'],
        summary: 'Link the bank account the customer pays with; the bank must know it',
        security: [{ bearer: [] }],
        body: Type.Object({ accountNumber: Uuid }, { additionalProperties: false }),
        response: { 200: Type.Object({ bankAccount: BankAccount }), ...errorResponses(400, 401, 403, 422, 503) },
      },
    },
    async (request) => {
      const { accountNumber } = request.body;
      try {
        await app.bank.getAccount(accountNumber);
      } catch (err) {
        if (err instanceof BankRequestError && (err.status === 404 || err.status === 400))
          throw unprocessable('unknown_bank_account', `The bank has no account ${accountNumber}`, {
            field: '/body/accountNumber',
          });
        request.log.warn({ err }, 'the bank did not confirm an account');
        throw bankUnavailable();
      }
      await app.repos.users.linkBankAccount(request.user!.id, accountNumber);
      return { bankAccount: { linked: true, accountNumber } };
    },
  );

  app.post(
    '/v1/me/bank-account/test-account',
    {
      onRequest: app.requireRole('customer'),
      schema: {
        tags: ['accounts'],
        summary: 'Open a funded test account at the dev bank and link it (only where the bank opens test accounts)',
        security: [{ bearer: [] }],
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 201: Type.Object({ bankAccount: BankAccount }), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      if (!app.config.bank.testAccounts) throw notFound('Test bank accounts');
      const user = request.user!;
      let accountNumber: string;
      try {
        ({ id: accountNumber } = await app.bank.createAccount({
          holderName: user.name,
          balanceCents: TEST_ACCOUNT_BALANCE_CENTS,
          behavior: 'normal',
          decisionDelayMs: 0,
        }));
      } catch (err) {
        request.log.warn({ err }, 'the bank did not open a test account');
        throw bankUnavailable();
      }
      await app.repos.users.linkBankAccount(user.id, accountNumber);
      return reply.code(201).send({ bankAccount: { linked: true, accountNumber } });
    },
  );
};

export default accountRoutes;
