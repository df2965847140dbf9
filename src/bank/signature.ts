// Signs and verifies the bank's webhooks: HMAC-SHA256 over `${timestamp}.${rawBody}`, sent as `Bank-Signature: t=<unix seconds>,v1=<hex>`.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'bank-signature';
/** How far a webhook's timestamp may be from our clock before it counts as a replay or a forgery. */
export const DEFAULT_TOLERANCE_SEC = 5 * 60;

export type SignatureFailure =
  'missing_header' | 'malformed_header' | 'timestamp_out_of_tolerance' | 'signature_mismatch' | 'no_secrets';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const MAX_HEADER_LENGTH = 1024;

function hmacHex(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(rawBody).digest('hex');
}

/** The `Bank-Signature` header value for a body sent at `timestampSec`. */
export function signWebhook(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  if (!secret) throw new Error('A webhook secret must not be empty');
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0)
    throw new Error(`Invalid webhook timestamp ${timestampSec}`);
  return `t=${timestampSec},v1=${hmacHex(secret, timestampSec, rawBody)}`;
}

function parseHeader(header: string): { timestampSec: number; signatures: string[] } | undefined {
  if (header.length > MAX_HEADER_LENGTH) return undefined;
  let timestampSec: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) return undefined;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestampSec !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestampSec = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return undefined;
      signatures.push(value);
    }
    // Other schemes (a future v2) are ignored, so the bank can add one before we understand it.
  }
  if (timestampSec === undefined || signatures.length === 0) return undefined;
  return { timestampSec, signatures };
}

/**
 * Checks a `Bank-Signature` header against the raw body. Any of `secrets` may have signed it, so a
 * secret can be rotated by accepting the new and the old one for a while.
 */
export function verifyWebhookSignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secrets: readonly string[],
  nowSec: number,
  toleranceSec: number = DEFAULT_TOLERANCE_SEC,
): SignatureCheck {
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) return { ok: false, reason: 'no_secrets' };
  if (!header) return { ok: false, reason: 'missing_header' };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed_header' };
  // Both directions: an old timestamp is a replay, one far ahead was signed to be replayed later.
  if (Math.abs(nowSec - parsed.timestampSec) > toleranceSec) return { ok: false, reason: 'timestamp_out_of_tolerance' };

  let matched = false;
  for (const secret of usable) {
    const expected = Buffer.from(hmacHex(secret, parsed.timestampSec, rawBody), 'utf8');
    for (const signature of parsed.signatures) {
      // Every pair is compared, in constant time, so the time taken does not tell which part matched.
      if (timingSafeEqual(expected, Buffer.from(signature, 'utf8'))) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: 'signature_mismatch' };
}
