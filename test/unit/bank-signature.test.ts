// The webhook signature: only the holder of a configured secret can produce one, for this body, within five minutes.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../../src/bank/signature.js';

const secret = 'whsec_current';
const body = JSON.stringify({
  id: 'evt_1',
  type: 'charge.approved',
  data: { chargeId: 'ch_1', reference: 'order-1', amountCents: 1250, status: 'approved' },
});
const now = 1_760_000_000;

describe('signWebhook', () => {
  it('is HMAC-SHA256 of "<t>.<body>" in hex, with the timestamp beside it', () => {
    const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhook(secret, now, body)).toBe(`t=${now},v1=${expected}`);
    expect(signWebhook(secret, now, Buffer.from(body))).toBe(`t=${now},v1=${expected}`);
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts what the secret signed', () => {
    expect(verifyWebhookSignature(signWebhook(secret, now, body), body, [secret], now)).toEqual({ ok: true });
    expect(verifyWebhookSignature(signWebhook(secret, now, body), Buffer.from(body), [secret], now)).toEqual({
      ok: true,
    });
  });

  it('refuses a body changed after signing, even by one character', () => {
    const header = signWebhook(secret, now, body);
    expect(verifyWebhookSignature(header, body.replace('1250', '1251'), [secret], now)).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
    expect(verifyWebhookSignature(header, `${body} `, [secret], now)).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyWebhookSignature(signWebhook('someone-else', now, body), body, [secret], now)).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('refuses a timestamp moved after signing', () => {
    const forged = signWebhook(secret, now, body).replace(`t=${now}`, `t=${now + 60}`);
    expect(verifyWebhookSignature(forged, body, [secret], now + 60)).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('accepts either secret while a rotation is under way, and only those', () => {
    const secrets = ['whsec_new', 'whsec_old'];
    expect(verifyWebhookSignature(signWebhook('whsec_new', now, body), body, secrets, now)).toEqual({ ok: true });
    expect(verifyWebhookSignature(signWebhook('whsec_old', now, body), body, secrets, now)).toEqual({ ok: true });
    expect(verifyWebhookSignature(signWebhook('whsec_older', now, body), body, secrets, now).ok).toBe(false);
    // After the change-over the old secret is dropped from the list and stops working.
    expect(verifyWebhookSignature(signWebhook('whsec_old', now, body), body, ['whsec_new'], now).ok).toBe(false);
  });

  it('accepts a header that carries several signatures when one of them matches', () => {
    const good = signWebhook(secret, now, body);
    const other = signWebhook('someone-else', now, body).split(',v1=')[1];
    expect(verifyWebhookSignature(`${good},v1=${other}`, body, [secret], now)).toEqual({ ok: true });
    expect(verifyWebhookSignature(`t=${now},v1=${other},${good.split(',')[1]}`, body, [secret], now)).toEqual({
      ok: true,
    });
  });

  it('refuses stale and future timestamps beyond the five-minute tolerance', () => {
    const header = signWebhook(secret, now, body);
    expect(verifyWebhookSignature(header, body, [secret], now + 300)).toEqual({ ok: true });
    expect(verifyWebhookSignature(header, body, [secret], now - 300)).toEqual({ ok: true });
    expect(verifyWebhookSignature(header, body, [secret], now + 301)).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(verifyWebhookSignature(header, body, [secret], now - 301)).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(verifyWebhookSignature(header, body, [secret], now + 31, 30)).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
  });

  it('refuses a missing or malformed header', () => {
    const valid = signWebhook(secret, now, body);
    const hex = valid.split('v1=')[1]!;
    expect(verifyWebhookSignature(undefined, body, [secret], now)).toEqual({ ok: false, reason: 'missing_header' });
    expect(verifyWebhookSignature('', body, [secret], now)).toEqual({ ok: false, reason: 'missing_header' });
    for (const header of [
      'garbage',
      `v1=${hex}`,
      `t=${now}`,
      `t=${now},v1=`,
      `t=${now},v1=${hex.slice(0, 63)}`,
      `t=${now},v1=${hex.toUpperCase()}`,
      `t=${now},v1=${hex}00`,
      `t=${now},v1=${'z'.repeat(64)}`,
      `t=abc,v1=${hex}`,
      `t=-1,v1=${hex}`,
      `t=${now}.5,v1=${hex}`,
      `t=${now},t=${now},v1=${hex}`,
      `t=${now},,v1=${hex}`,
      `t=${now},v1=${hex},${'x'.repeat(2000)}=1`,
    ]) {
      expect({ header, result: verifyWebhookSignature(header, body, [secret], now) }).toEqual({
        header,
        result: { ok: false, reason: 'malformed_header' },
      });
    }
  });

  it('accepts nothing when no secret is configured', () => {
    expect(verifyWebhookSignature(signWebhook(secret, now, body), body, [], now)).toEqual({
      ok: false,
      reason: 'no_secrets',
    });
    expect(verifyWebhookSignature(signWebhook(secret, now, body), body, [''], now)).toEqual({
      ok: false,
      reason: 'no_secrets',
    });
  });

  it('tolerates spaces around the parts, as some senders write them', () => {
    const [t, v1] = signWebhook(secret, now, body).split(',');
    expect(verifyWebhookSignature(`${t}, ${v1}`, body, [secret], now)).toEqual({ ok: true });
  });
});
