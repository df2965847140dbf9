// Kitchen and POS systems in: each location's owner creates and rotates an inbound secret, and the location's kitchen
// system sends signed messages (Standard Webhooks) that move an order exactly as the owner's buttons do.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { OrderView } from '../../db/repositories/orders.js';
import { KitchenEventType, orderNumber, OrderStatus } from '../../domain/vocabulary.js';
import { ApiError, badRequest, conflict, notFound } from '../errors.js';
import { assertManagesLocation } from '../location-access.js';
import { collectOrder, prepOrder } from '../order-actions.js';
import { findUnstorableText } from '../plugins/security.js';
import { errorResponses, Uuid } from '../schemas.js';

/** After a rotation the replaced secret keeps verifying this long, so the kitchen system can switch without a refusal. */
export const KITCHEN_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** How long a message id is remembered. Timestamps over 5 minutes old are refused anyway; a resend re-signs. */
export const KITCHEN_MESSAGE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;

/** A kitchen message, read from the raw body after its signature is checked; extra fields are ignored. */
export const KitchenMessageBody = Type.Object({
  type: KitchenEventType,
  data: Type.Object({
    orderId: Type.Optional(Uuid),
    number: Type.Optional(
      Type.String({ pattern: '^[0-9A-Fa-f]{4}$', description: 'The order number the board shows', examples: ['3F2A'] }),
    ),
  }),
});
const kitchenMessage = Compile(KitchenMessageBody);
const isUuid = Compile(Uuid);

/** The status an order is in for each step to apply: used only to tell apart orders that share a board number. */
const STEP_FROM: Record<KitchenEventType, OrderStatus> = {
  'order.prepping': 'confirmed',
  'order.prepped': 'prepping',
  'order.collected': 'ready_for_collection',
};

const Timestamp = Type.String({ format: 'date-time' });
const LocationParams = Type.Object({ id: Uuid });
const KitchenIntegration = Type.Object({
  configured: Type.Boolean({ description: 'Whether the location has an inbound secret' }),
  createdAt: Type.Union([Timestamp, Type.Null()], { description: 'When the current secret was made' }),
  previousExpiresAt: Type.Union([Timestamp, Type.Null()], {
    description: 'Until when the secret it replaced is still accepted',
  }),
  url: Type.String({ format: 'uri', description: 'Where the kitchen system sends its signed messages' }),
});

const signatureRefused = () =>
  new ApiError(
    401,
    'invalid_signature',
    'The webhook-id, webhook-timestamp and webhook-signature headers are missing, do not match the body with the ' +
      "location's secret, or are more than 5 minutes from our clock",
  );

const header = (request: FastifyRequest, name: string): string => {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
};

const kitchenSecretRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const inboundUrl = (request: FastifyRequest, locationId: string) =>
    `${app.config.publicUrl ?? `${request.protocol}://${request.host}`}/v1/integrations/kitchen/${locationId}`;

  app.post(
    '/v1/locations/:id/integrations/kitchen/secret',
    {
      onRequest: app.requireRole('owner'),
      schema: {
        tags: ['integrations'],
        summary:
          "Create or rotate the location's kitchen secret: shown once; the secret it replaces keeps working for 24 h",
        security: [{ bearer: [] }],
        params: LocationParams,
        response: {
          201: Type.Object({
            secret: Type.String({ description: 'Standard Webhooks secret, whsec_ and base64; shown only here' }),
            createdAt: Timestamp,
            previousExpiresAt: Type.Union([Timestamp, Type.Null()]),
            url: Type.String({ format: 'uri' }),
          }),
          ...errorResponses(401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const locationId = request.params.id;
      if (!request.user!.locationIds.includes(locationId)) throw notFound('Location');
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const status = await app.repos.kitchen.rotateSecret(locationId, secret, KITCHEN_SECRET_OVERLAP_MS);
      request.log.info({ locationId, rotated: status.previousExpiresAt !== null }, 'kitchen secret set');
      return reply.code(201).send({ secret, ...status, url: inboundUrl(request, locationId) });
    },
  );

  app.get(
    '/v1/locations/:id/integrations/kitchen',
    {
      onRequest: app.requireRole('owner', 'operator'),
      schema: {
        tags: ['integrations'],
        summary: "The location's kitchen integration: whether a secret is set and since when (never the secret)",
        security: [{ bearer: [] }],
        params: LocationParams,
        response: { 200: KitchenIntegration, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const locationId = request.params.id;
      await assertManagesLocation(app, request.user!, locationId);
      const status = await app.repos.kitchen.secretStatus(locationId);
      return {
        configured: status !== undefined,
        createdAt: status?.createdAt ?? null,
        previousExpiresAt: status?.previousExpiresAt ?? null,
        url: inboundUrl(request, locationId),
      };
    },
  );
};

const kitchenInboundRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // The signature covers the exact bytes sent, so this route keeps the body as a Buffer. The parser is registered
  // inside this plugin, so every other route keeps the ordinary JSON parser.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const sweep = setInterval(() => {
    app.repos.kitchen
      .sweepMessages(KITCHEN_MESSAGE_TTL_MS)
      .catch((err: unknown) => app.log.warn({ err }, 'could not sweep old kitchen message ids'));
  }, SWEEP_EVERY_MS);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  /** The order a message names, by id or by board number, at this location only. */
  async function findOrder(locationId: string, type: KitchenEventType, data: { orderId?: string; number?: string }) {
    if (data.orderId !== undefined) {
      const ownership = await app.repos.orders.findOwnership(data.orderId);
      if (!ownership || ownership.locationId !== locationId) throw notFound('Order');
      return data.orderId;
    }
    const numbered = await app.repos.kitchen.activeOrdersNumbered(locationId, data.number!);
    if (numbered.length === 0) throw notFound('Order');
    const fitting = numbered.filter((o) => o.status === STEP_FROM[type]);
    if (fitting.length > 1)
      throw conflict(
        'ambiguous_number',
        `${fitting.length} active orders carry number ${data.number!.toUpperCase()}; send data.orderId instead`,
      );
    // None fits: the newest is sent the step, and the order's own validator says why it cannot take it.
    return (fitting[0] ?? numbered[0]!).id;
  }

  app.post(
    '/v1/integrations/kitchen/:locationId',
    {
      bodyLimit: 16 * 1024,
      schema: {
        tags: ['integrations'],
        summary: 'A kitchen or POS system moves an order: prepping, prepped, or a collection order collected',
        description:
          "Signed by Standard Webhooks with the location's kitchen secret: `webhook-id`, `webhook-timestamp` (unix " +
          'seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`). Refused ' +
          'with 401 when a header is missing, the signature does not match, or the timestamp is more than 5 minutes ' +
          'from our clock. A webhook-id already acted on is answered 200 with `duplicate: true` and changes nothing. ' +
          'The order is named by `data.orderId` or by `data.number`, the number the board shows.',
        // Checked by hand after the signature, like the body: an unsigned request learns nothing, not even that an id is malformed.
        params: Type.Object({ locationId: Type.String({ maxLength: 36, description: "The location's id" }) }),
        response: {
          200: Type.Object({
            orderId: Uuid,
            number: Type.String({ examples: ['3F2A'] }),
            status: OrderStatus,
            duplicate: Type.Boolean({ description: 'True when this webhook-id was acted on before' }),
          }),
          ...errorResponses(400, 401, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw))
        throw new ApiError(415, 'unsupported_media_type', 'The message body must be application/json');
      const { locationId } = request.params;

      const headers = {
        'webhook-id': header(request, 'webhook-id'),
        'webhook-timestamp': header(request, 'webhook-timestamp'),
        'webhook-signature': header(request, 'webhook-signature'),
      };
      // A malformed id names no location, so it has no secret to verify against.
      const secrets = isUuid.Check(locationId) ? await app.repos.kitchen.verificationSecrets(locationId) : [];
      const verified = secrets.some((secret) => {
        try {
          new Webhook(secret).verify(raw, headers, { jsonParse: false });
          return true;
        } catch {
          return false;
        }
      });
      if (!verified) {
        request.log.warn({ locationId, configured: secrets.length > 0 }, 'kitchen message refused');
        throw signatureRefused();
      }

      const messageId = headers['webhook-id'];
      if (messageId.length > 200) throw badRequest('validation_failed', 'webhook-id must be at most 200 characters');
      let message: unknown;
      try {
        message = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest('invalid_json', 'The request body is not valid JSON');
      }
      if (!kitchenMessage.Check(message)) {
        const [first] = kitchenMessage.Errors(message);
        throw badRequest(
          'validation_failed',
          `body${first ? `${first.instancePath.replace(/\//g, '.')} ${first.message}` : ' is malformed'}`,
        );
      }
      const unstorable = findUnstorableText({ message, messageId }, '');
      if (unstorable !== undefined)
        throw badRequest('validation_failed', `${unstorable} holds text that cannot be stored`);
      const { type, data } = message;
      if ((data.orderId === undefined) === (data.number === undefined))
        throw badRequest('validation_failed', 'body.data must name the order by exactly one of orderId or number');

      const orderId = await findOrder(locationId, type, data);
      let view: OrderView | undefined;
      const acted = await app.repos.kitchen.handleOnce({ locationId, messageId, type, orderId }, async () => {
        view =
          type === 'order.collected'
            ? await collectOrder(app, orderId)
            : await prepOrder(app, orderId, type === 'order.prepping' ? 'prepping' : 'prepped');
      });
      view ??= (await app.repos.orders.findView(orderId))!;
      request.log.info(
        { locationId, messageId, type, orderId, duplicate: !acted },
        acted ? 'kitchen message acted on' : 'kitchen message already acted on',
      );
      return { orderId, number: orderNumber(orderId), status: view.status, duplicate: !acted };
    },
  );
};

const kitchenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(kitchenSecretRoutes);
  await app.register(kitchenInboundRoutes);
};

export default kitchenRoutes;
