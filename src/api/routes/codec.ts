// Temporal's remote codec protocol for the Web UI and the CLI: operators see decrypted payloads (and can encode the
// input they send) while Temporal itself stores only ciphertext. Only operators may call it; every other caller is
// refused before the body is read.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Type, type Static } from 'typebox';
import { createEncryptionCodec, PayloadDecryptionError } from '../../payload-codec.js';
import { badRequest, unprocessable } from '../errors.js';
import { errorResponses } from '../schemas.js';

/** Where the Web UI and the CLI are pointed: `--ui-codec-endpoint`, `TEMPORAL_CODEC_ENDPOINT`, `--codec-endpoint`. */
export const CODEC_PATH = '/codec';

// Proto3 JSON: bytes are base64, standard or URL-safe.
const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/_-]*={0,2}$' });
const JsonPayload = Type.Object(
  {
    metadata: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Base64)),
    data: Type.Optional(Base64),
  },
  { additionalProperties: false },
);
const Payloads = Type.Object(
  { payloads: Type.Array(JsonPayload, { maxItems: 1000 }) },
  { additionalProperties: false },
);
// Proto JSON leaves out an empty list: the CLI asks about an event without payloads as `{}`.
const PayloadsRequest = Type.Object(
  { payloads: Type.Optional(Type.Array(JsonPayload, { maxItems: 1000 })) },
  { additionalProperties: false },
);

/** A payload in the protocol's JSON; empty fields are left out, as proto JSON does. */
function toJson(payload: Payload): Static<typeof JsonPayload> {
  const { metadata, data } = payloadToJSON(payload);
  return { ...(metadata ? { metadata } : {}), ...(data ? { data } : {}) };
}

/** A Web UI page sends a workflow's payloads in batches; Temporal's own limit for one payload is 2 MB. */
const BODY_LIMIT = 4 * 1024 * 1024;

const codecRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { namespace, payloadKeys } = app.config.temporal;
  // Without keys (production without PAYLOAD_CODEC_KEYS) the API's client has already refused to start.
  const codec: PayloadCodec | undefined = payloadKeys.length > 0 ? createEncryptionCodec(payloadKeys) : undefined;

  for (const [step, summary] of [
    ['decode', 'Decrypt Temporal payloads for the Web UI or CLI (remote codec protocol)'],
    ['encode', 'Encrypt Temporal payloads the Web UI or CLI sends (remote codec protocol)'],
  ] as const) {
    app.post(
      `${CODEC_PATH}/${step}`,
      {
        onRequest: app.requireRole('operator'),
        bodyLimit: BODY_LIMIT,
        config: { changesNothing: true },
        schema: {
          tags: ['operations'],
          summary,
          description:
            'Payloads as Temporal sends them (proto JSON: metadata values and data in base64), answered in the same shape. Payloads that are not encrypted pass through decode unchanged. The Web UI calls it with the operator’s session cookie ("include cross-origin credentials") or a bearer token.',
          security: [{ bearer: [] }],
          headers: Type.Object({
            'x-namespace': Type.Optional(Type.String({ description: 'The namespace the payloads belong to' })),
          }),
          body: PayloadsRequest,
          response: { 200: Payloads, ...errorResponses(400, 401, 403, 422) },
        },
      },
      async (request) => {
        const asked = request.headers['x-namespace'];
        if (asked !== undefined && asked !== namespace)
          throw badRequest('unknown_namespace', `This codec serves the namespace "${namespace}" only, not "${asked}"`);
        if (!codec) throw new Error('The payload codec has no keys');
        const payloads: Payload[] = (request.body.payloads ?? []).map((p) => JSONToPayload(p));
        let result: Payload[];
        try {
          result = step === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        } catch (err) {
          if (err instanceof PayloadDecryptionError) throw unprocessable('payload_undecodable', err.message);
          throw err;
        }
        return { payloads: result.map(toJson) };
      },
    );
  }
};

export default codecRoutes;
