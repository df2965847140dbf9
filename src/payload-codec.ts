// Encrypts every payload Temporal stores (workflow inputs and results, signals, updates, queries, summaries) with
// AES-256-GCM, so customer names, addresses and bank accounts reach the Temporal service only as ciphertext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils.js';

/** The `encoding` metadata of an encrypted payload; anything else passes through decode untouched. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata naming the key a payload was encrypted with, so rotated-out keys still decrypt old histories. */
export const KEY_ID_METADATA = 'encryption-key-id';

/**
 * The failure converter every client, worker and workflow bundle uses: a failure's message and stack trace travel as
 * an encoded payload, so the codec encrypts them too (see failure-converter.cjs).
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export interface PayloadKey {
  id: string;
  /** 32 bytes of AES-256 key. */
  key: Buffer;
}

/** A payload that names the encrypted encoding but cannot be decrypted: an unknown key, or bytes that were altered. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * The codec: the first key encrypts, every key decrypts by the id the payload names. The plaintext is the payload as
 * Temporal's proto JSON (metadata and data, base64), so decode gives back exactly what the converter wrote.
 */
export function createEncryptionCodec(keys: readonly PayloadKey[]): PayloadCodec {
  const [current] = keys;
  if (!current) throw new Error('The payload codec needs at least one key');
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  // The key id is authenticated with the ciphertext: a payload relabelled with another key's id fails to decrypt.
  const aad = (id: string) => Buffer.from(`${ENCRYPTED_ENCODING}:${id}`, 'utf8');

  function encrypt(payload: Payload): Payload {
    const plaintext = Buffer.from(JSON.stringify(payloadToJSON(payload)), 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current!.key, iv);
    cipher.setAAD(aad(current!.id));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
        [KEY_ID_METADATA]: Buffer.from(current!.id, 'utf8'),
      },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  function decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (id === undefined) throw new PayloadDecryptionError('An encrypted payload does not name its key id');
    const key = byId.get(id);
    if (!key)
      throw new PayloadDecryptionError(
        `A payload is encrypted with key "${id}", which PAYLOAD_CODEC_KEYS does not hold (it holds ${[...byId.keys()].map((k) => `"${k}"`).join(', ')})`,
      );
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(`A payload encrypted with key "${id}" is too short to be one`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(aad(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `A payload encrypted with key "${id}" fails authentication: it was altered, or key "${id}" is not the key that encrypted it`,
      );
    }
    return JSONToPayload(JSON.parse(plaintext.toString('utf8')));
  }

  return {
    encode: async (payloads) => payloads.map(encrypt),
    decode: async (payloads) => payloads.map(decrypt),
  };
}

/**
 * Reads `id:<base64 of 32 bytes>` entries, comma-separated, the encrypting key first. Messages name the entry by its
 * id or position, never by its key.
 */
export function parsePayloadKeys(raw: string, variable = 'PAYLOAD_CODEC_KEYS'): PayloadKey[] {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${variable} must list at least one key as id:<base64 of 32 bytes>`);
  const keys: PayloadKey[] = [];
  entries.forEach((entry, index) => {
    const at = entry.indexOf(':');
    const id = at < 0 ? '' : entry.slice(0, at);
    const encoded = at < 0 ? '' : entry.slice(at + 1);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id))
      throw new Error(
        `${variable} entry ${index + 1} must be id:<base64 of 32 bytes>, the id of letters, digits, dots, dashes and underscores`,
      );
    const key = Buffer.from(encoded, 'base64');
    // Buffer.from skips what is not base64; a key that does not survive the round trip was mistyped.
    if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, ''))
      throw new Error(
        `${variable} key "${id}" must be ${KEY_BYTES} bytes in base64 (e.g. \`openssl rand -base64 32\`)`,
      );
    if (keys.some((k) => k.id === id)) throw new Error(`${variable} names key "${id}" twice`);
    keys.push({ id, key });
  });
  return keys;
}
