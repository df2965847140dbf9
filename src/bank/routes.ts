// The bank's HTTP interface: accounts, charges with their void and refund, and a liveness check.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../api/errors.js';
import { ErrorBody, Uuid } from '../api/schemas.js';
import type { Ledger } from './ledger.js';
import type { BankProcessor } from './processor.js';
import { ACCOUNT_BEHAVIORS, CHARGE_STATUSES } from './types.js';

/** A hundred million in the currency's main unit: far beyond any order, far below 2^53. */
const MAX_AMOUNT_CENTS = 10_000_000_000;
const MAX_DECISION_DELAY_MS = 60 * 60 * 1000;

const Behavior = Type.Enum(ACCOUNT_BEHAVIORS);
const Status = Type.Enum(CHARGE_STATUSES);
const Timestamp = Type.String({ format: 'date-time' });

const Account = Type.Object({
  id: Uuid,
  holderName: Type.String(),
  balanceCents: Type.Integer(),
  heldCents: Type.Integer(),
  availableCents: Type.Integer(),
  behavior: Behavior,
  decisionDelayMs: Type.Integer(),
  createdAt: Timestamp,
});

const Charge = Type.Object({
  id: Uuid,
  idempotencyKey: Type.String(),
  accountId: Uuid,
  amountCents: Type.Integer(),
  reference: Type.String(),
  status: Status,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  decidedAt: Type.Union([Timestamp, Type.Null()]),
});

const IdParams = Type.Object({ id: Uuid });

export interface BankRoutesOptions {
  ledger: Ledger;
  processor: BankProcessor;
  /** Serve POST /accounts: test accounts exist on a dev or test bank only. */
  testAccounts: boolean;
}

const bankRoutes: FastifyPluginAsyncTypebox<BankRoutesOptions> = async (app, { ledger, processor, testAccounts }) => {
  app.get(
    '/healthz',
    {
      schema: { summary: 'The bank is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  if (testAccounts) {
    app.post(
      '/accounts',
      {
        schema: {
          summary: 'Open a test account (dev and test banks only)',
          body: Type.Object(
            {
              // Postgres text holds no NUL character: refused here, not as a failed insert.
              holderName: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000]*$' }),
              balanceCents: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_CENTS }),
              behavior: Type.Optional(Behavior),
              decisionDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DECISION_DELAY_MS })),
            },
            { additionalProperties: false },
          ),
          response: { 201: Account, 400: ErrorBody },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.createAccount(request.body)),
    );
  }

  app.get(
    '/accounts/:id',
    {
      schema: {
        summary: 'An account with its balance and holds',
        params: IdParams,
        response: { 200: Account, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ledger.getAccount(request.params.id),
  );

  app.post(
    '/charges',
    {
      schema: {
        summary: 'Request a charge: the amount is held at once and decided asynchronously',
        body: Type.Object(
          {
            idempotencyKey: Type.String({ minLength: 1, maxLength: 200 }),
            accountId: Uuid,
            amountCents: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_CENTS }),
            reference: Type.String({ minLength: 1, maxLength: 200 }),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ chargeId: Uuid, status: Status }),
          400: ErrorBody,
          404: ErrorBody,
          422: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { charge, created } = await ledger.requestCharge(request.body);
      // The reference is the merchant's order id: the field that ties bank lines to the order's other logs.
      request.log.info(
        {
          reference: charge.reference,
          chargeId: charge.id,
          amountCents: charge.amountCents,
          status: charge.status,
          created,
        },
        'charge requested',
      );
      processor.traceCharge(charge.id);
      if (created) processor.wake();
      return reply.code(202).send({ chargeId: charge.id, status: charge.status });
    },
  );

  app.get(
    '/charges',
    {
      schema: {
        summary:
          'Find the charge made with an idempotency key (a merchant that lost the answer to its request uses this)',
        querystring: Type.Object(
          { idempotencyKey: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Charge, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const charge = await ledger.findChargeByKey(request.query.idempotencyKey);
      if (!charge) throw notFound('A charge with this idempotency key');
      return charge;
    },
  );

  app.get(
    '/charges/:id',
    {
      schema: {
        summary: 'A charge and its status',
        params: IdParams,
        response: { 200: Charge, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ledger.getCharge(request.params.id),
  );

  app.post(
    '/charges/:id/void',
    {
      schema: {
        summary: 'Cancel a charge: a pending one is voided, an approved one refunded; repeating it changes nothing',
        params: IdParams,
        response: { 200: Charge, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const charge = await ledger.voidCharge(request.params.id);
      processor.traceCharge(charge.id);
      request.log.info({ reference: charge.reference, chargeId: charge.id, status: charge.status }, 'charge voided');
      processor.wake();
      return charge;
    },
  );

  app.post(
    '/charges/:id/refund',
    {
      schema: {
        summary: 'Give back the money of an approved charge; repeating it changes nothing',
        params: IdParams,
        response: { 200: Charge, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const charge = await ledger.refundCharge(request.params.id);
      processor.traceCharge(charge.id);
      request.log.info({ reference: charge.reference, chargeId: charge.id, status: charge.status }, 'charge refunded');
      processor.wake();
      return charge;
    },
  );
};

export default bankRoutes;
