// Receives the bank's signed webhooks: checks the signature on the raw body, drops redeliveries, and signals the order's workflow.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkflowNotFoundError } from '@temporalio/client';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { bankChargeResultSignal, type BankChargeResult } from '../../../workflows/messages.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../bank/signature.js';
import { ApiError, badRequest } from '../errors.js';
import { findUnstorableText } from '../plugins/security.js';
import { errorResponses } from '../schemas.js';

// Loose on purpose beyond what we use: a new field or event type from the bank must not bounce its webhook.
const BankEvent = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ minLength: 1, maxLength: 100 }),
  createdAt: Type.String({ maxLength: 100 }),
  data: Type.Object({
    chargeId: Type.String({ minLength: 1, maxLength: 200 }),
    reference: Type.String({ minLength: 1, maxLength: 200 }),
    amountCents: Type.Integer({ minimum: 0 }),
    status: Type.String({ maxLength: 100 }),
  }),
});
const bankEvent = Compile(BankEvent);

const OUTCOME_OF: Record<string, BankChargeResult['outcome']> = {
  'charge.approved': 'approved',
  'charge.insufficient_funds': 'insufficient_funds',
  'charge.declined': 'declined',
};

const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The signature covers the exact bytes sent, so this route keeps the body as a Buffer. The parser is
  // registered inside this plugin, so every other route keeps the ordinary JSON parser.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/webhooks/bank',
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags: ['webhooks'],
        summary: 'Charge results from the bank',
        description:
          'Signed by the bank: `Bank-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. ' +
          'Refused with 401 when the signature is missing, wrong, or more than 5 minutes from our clock; ' +
          'an event id seen before is acknowledged without effect.',
        response: { 204: Type.Null(), ...errorResponses(400, 401, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw))
        throw new ApiError(415, 'unsupported_media_type', 'The webhook body must be application/json');

      const check = verifyWebhookSignature(
        request.headers[SIGNATURE_HEADER] as string | undefined,
        raw,
        app.config.bank.webhookSecrets,
        Math.floor(Date.now() / 1000),
      );
      if (!check.ok) {
        request.log.warn({ reason: check.reason }, 'bank webhook refused');
        throw new ApiError(
          401,
          'invalid_signature',
          'The Bank-Signature header is missing, does not match the body, or is too old',
        );
      }

      let event: unknown;
      try {
        event = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest('invalid_json', 'The request body is not valid JSON');
      }
      if (!bankEvent.Check(event)) {
        const [first] = bankEvent.Errors(event);
        throw badRequest(
          'validation_failed',
          `The bank event is malformed${first ? `: ${first.instancePath || '/'} ${first.message}` : ''}`,
        );
      }
      // Parsed here, not by Fastify, so the app's check for text Postgres cannot store must be repeated: such an
      // event would fail its insert and be answered 503, and the bank would retry it forever.
      const unstorable = findUnstorableText(event, '');
      if (unstorable !== undefined)
        throw badRequest(
          'validation_failed',
          `The bank event is malformed: ${unstorable || '/'} holds text that cannot be stored`,
        );

      const outcome = OUTCOME_OF[event.type];
      const workflowId = `order-${event.data.reference}`;
      let duplicate = false;
      try {
        // The event counts as seen only once its signal is sent: if signalling fails the row rolls back,
        // and the bank's retry gets another go. A concurrent redelivery waits on the row and then skips.
        const handled = await app.repos.webhookEvents.handleOnce(
          { eventId: event.id, type: event.type, chargeId: event.data.chargeId, reference: event.data.reference },
          async () => {
            if (!outcome) return;
            try {
              await app.temporal.workflow
                .getHandle(workflowId)
                .signal(bankChargeResultSignal, { chargeId: event.data.chargeId, outcome });
            } catch (err) {
              // No such order, or it has already finished: nothing can use this answer, and the bank must stop retrying.
              if (!(err instanceof WorkflowNotFoundError)) throw err;
              request.log.warn(
                { eventId: event.id, workflowId },
                'bank event for an order workflow that does not exist or has finished',
              );
            }
          },
        );
        duplicate = !handled;
      } catch (err) {
        request.log.error({ err, eventId: event.id, workflowId }, 'bank event not handled; the bank will retry');
        throw new ApiError(503, 'temporarily_unavailable', 'The event could not be handled now; retry later');
      }
      request.log.info(
        { eventId: event.id, type: event.type, workflowId, duplicate },
        duplicate ? 'bank event already handled' : 'bank event handled',
      );
      return reply.code(204).send(null);
    },
  );
};

export default webhookRoutes;
