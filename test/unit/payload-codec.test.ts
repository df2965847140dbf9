// The payload codec: what it writes carries no plaintext and names its key, it reads back exactly, refuses altered or
// unknown-key payloads with a clear error, passes unencrypted payloads through, and the keys come from one variable.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DEV_PAYLOAD_CODEC_KEYS, loadConfig } from '../../src/config.js';
import {
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  createEncryptionCodec,
  parsePayloadKeys,
} from '../../src/payload-codec.js';
import { MISSING_PAYLOAD_KEYS, temporalDataConverter } from '../../src/temporal.js';

const key = (id: string) => ({ id, key: randomBytes(32) });
const k1 = key('k1');
const k2 = key('k2');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const orderInput = {
  customerName: 'Ada Lovelace',
  address: { lat: 51.52, lng: -0.07, line1: '12 Secret Street' },
  bankAccountId: 'acct_4242424242',
};

describe('the payload codec', () => {
  it('writes ciphertext that names its key, and reads back the exact payload', async () => {
    const codec = createEncryptionCodec([k1]);
    const plain = defaultPayloadConverter.toPayload(orderInput);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted!.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted!.metadata?.[KEY_ID_METADATA])).toBe('k1');
    const stored = Buffer.from(encrypted!.data!).toString('latin1');
    for (const secret of ['Ada Lovelace', '12 Secret Street', 'acct_4242424242', 'json/plain']) {
      expect(stored).not.toContain(secret);
    }
    const [decoded] = await codec.decode([encrypted!]);
    expect(text(decoded!.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(orderInput);
  });

  it('encrypts the same payload differently each time (a fresh IV)', async () => {
    const codec = createEncryptionCodec([k1]);
    const plain = defaultPayloadConverter.toPayload(orderInput);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses a payload whose bytes were altered', async () => {
    const codec = createEncryptionCodec([k1]);
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(orderInput)]);
    const data = Buffer.from(encrypted!.data!);
    data[20] = data[20]! ^ 0x01;
    const tampered: Payload = { ...encrypted!, data };
    await expect(codec.decode([tampered])).rejects.toThrow(PayloadDecryptionError);
    await expect(codec.decode([tampered])).rejects.toThrow(/key "k1" fails authentication/);
  });

  it('refuses a payload relabelled with another key id, even one it holds', async () => {
    const [encrypted] = await createEncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload(orderInput)]);
    const relabelled: Payload = {
      ...encrypted!,
      metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') },
    };
    await expect(createEncryptionCodec([k1, k2]).decode([relabelled])).rejects.toThrow(/key "k2" fails authentication/);
  });

  it('names the unknown key id and the ones it holds', async () => {
    const [encrypted] = await createEncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload(orderInput)]);
    await expect(createEncryptionCodec([k2]).decode([encrypted!])).rejects.toThrow(
      'A payload is encrypted with key "k1", which PAYLOAD_CODEC_KEYS does not hold (it holds "k2")',
    );
  });

  it('after a rotation encrypts with the first key and still reads what the old key wrote', async () => {
    const [old] = await createEncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload(orderInput)]);
    const rotated = createEncryptionCodec([k2, k1]);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(orderInput)]);
    expect(text(fresh!.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const decoded = await rotated.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([orderInput, orderInput]);
  });

  it('passes payloads it did not encrypt through unchanged: histories recorded before encryption replay', async () => {
    const plain = defaultPayloadConverter.toPayload(orderInput);
    const binary = defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3]));
    const empty = defaultPayloadConverter.toPayload(undefined);
    const decoded = await createEncryptionCodec([k1]).decode([plain, binary, empty]);
    expect(decoded[0]).toBe(plain);
    expect(decoded[1]).toBe(binary);
    expect(decoded[2]).toBe(empty);
  });

  it('round-trips binary and empty payloads', async () => {
    const codec = createEncryptionCodec([k1]);
    const payloads = [
      defaultPayloadConverter.toPayload(new Uint8Array([0, 255, 7])),
      defaultPayloadConverter.toPayload(undefined),
    ];
    const decoded = await codec.decode(await codec.encode(payloads));
    expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual(new Uint8Array([0, 255, 7]));
    expect(defaultPayloadConverter.fromPayload(decoded[1]!)).toBeUndefined();
  });
});

describe('PAYLOAD_CODEC_KEYS', () => {
  const b64 = (bytes: Buffer) => bytes.toString('base64');

  it('lists keys by id, the encrypting one first', () => {
    const keys = parsePayloadKeys(`k2:${b64(k2.key)}, k1:${b64(k1.key)}`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0]!.key.equals(k2.key)).toBe(true);
  });

  it('refuses a malformed entry, naming it without showing the key', () => {
    const secret = b64(randomBytes(16));
    expect(() => parsePayloadKeys(`short:${secret}`)).toThrow('PAYLOAD_CODEC_KEYS key "short" must be 32 bytes');
    expect(() => parsePayloadKeys(`short:${secret}`)).not.toThrow(secret);
    expect(() => parsePayloadKeys(b64(k1.key))).toThrow(/entry 1 must be id:<base64 of 32 bytes>/);
    expect(() => parsePayloadKeys(`k1:${b64(k1.key)},k1:${b64(k2.key)}`)).toThrow('names key "k1" twice');
    expect(() => parsePayloadKeys(`k1:${b64(k1.key)}!`)).toThrow(/key "k1" must be 32 bytes/);
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: ',' })).toThrow(/PAYLOAD_CODEC_KEYS/);
  });

  it('defaults to the development key outside production, so npm start and the tests encrypt too', () => {
    expect(loadConfig({}).temporal.payloadKeys).toEqual(parsePayloadKeys(DEV_PAYLOAD_CODEC_KEYS));
    expect(temporalDataConverter(loadConfig({})).payloadCodecs).toHaveLength(1);
  });

  it('must be set in production: no Temporal client or worker is built without it', () => {
    const production = loadConfig({ NODE_ENV: 'production' });
    expect(production.temporal.payloadKeys).toEqual([]);
    expect(() => temporalDataConverter(production)).toThrow(MISSING_PAYLOAD_KEYS);
    const configured = loadConfig({ NODE_ENV: 'production', PAYLOAD_CODEC_KEYS: `k1:${b64(k1.key)}` });
    expect(configured.temporal.payloadKeys.map((k) => k.id)).toEqual(['k1']);
  });

  it('lets the Web UI call the codec from its own origins only, never from *', () => {
    expect(loadConfig({}).temporal.uiOrigins).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
    expect(loadConfig({ NODE_ENV: 'production' }).temporal.uiOrigins).toEqual([]);
    expect(loadConfig({ TEMPORAL_UI_ORIGINS: 'https://temporal.shop.example' }).temporal.uiOrigins).toEqual([
      'https://temporal.shop.example',
    ]);
    expect(() => loadConfig({ TEMPORAL_UI_ORIGINS: '*' })).toThrow(/TEMPORAL_UI_ORIGINS/);
  });
});
