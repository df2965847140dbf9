// POST /v1/webhooks/bank: only signed, fresh, first-seen events reach the order workflow, on the real dev server and Postgres.
import { randomUUID } from 'node:crypto';
import { Connection, type Client } from '@temporalio/client';
import { defaultPayloadConverter, type PayloadCodec } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { signWebhook } from '../../src/bank/signature.js';
import type { WebhookEvent, WebhookEventType } from '../../src/bank/types.js';
import { loadConfig } from '../../src/config.js';
import { createEncryptionCodec } from '../../src/payload-codec.js';
import { temporalClient } from '../../src/temporal.js';
import { createDb } from '../../src/db/knex.js';
import {
  createLocation,
  createProduct,
  createCustomer,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';
import '../support/context.js';

const NEW_SECRET = 'whsec_new';
const OLD_SECRET = 'whsec_old';
const nowSec = () => Math.floor(Date.now() / 1000);

function bankEvent(
  reference: string,
  type: WebhookEventType = 'charge.approved',
  fields: Partial<WebhookEvent['data']> = {},
): WebhookEvent {
  const status = type.slice('charge.'.length) as WebhookEvent['data']['status'];
  return {
    id: randomUUID(),
    type,
    createdAt: new Date().toISOString(),
    data: { chargeId: randomUUID(), reference, amountCents: 1_250, status, ...fields },
  };
}

describe('the webhook endpoint', () => {
  let app: FastifyInstance;
  let db: Knex;
  let connection: Connection;
  let client: Client;
  let codec: PayloadCodec;
  // Workflows that nobody runs: a signal sent to one is recorded in its history, which is what we inspect.
  const idleQueue = `webhooks-idle-${randomUUID()}`;
  const started: string[] = [];

  beforeAll(async () => {
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      BANK_WEBHOOK_SECRETS: `${NEW_SECRET},${OLD_SECRET}`,
      LOG_LEVEL: 'error',
    });
    db = createDb(config.databaseUrl!);
    connection = await Connection.connect({ address: config.temporal.address! });
    client = temporalClient(config, connection);
    codec = createEncryptionCodec(config.temporal.payloadKeys);
    app = await buildApp({ config, db, temporal: client, logger: { level: 'error' } });
    await app.ready();
  });

  afterAll(async () => {
    for (const id of started)
      await client.workflow
        .getHandle(id)
        .terminate('test finished')
        .catch(() => undefined);
    await app?.close();
    await connection?.close();
    await db?.destroy();
  });

  async function waitingOrder(): Promise<string> {
    const orderId = randomUUID();
    await client.workflow.start('orderWorkflow', {
      taskQueue: idleQueue,
      workflowId: `order-${orderId}`,
      args: [{ orderId }],
    });
    started.push(`order-${orderId}`);
    return orderId;
  }

  async function signalsTo(orderId: string): Promise<unknown[]> {
    const history = await client.workflow.getHandle(`order-${orderId}`).fetchHistory();
    // The history holds the signals as the API's client encrypted them.
    const signals = (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a != null);
    return Promise.all(
      signals.map(async (a) => ({
        name: a.signalName,
        args: (await codec.decode(a.input?.payloads ?? [])).map((p) => defaultPayloadConverter.fromPayload(p)),
      })),
    );
  }

  function post(raw: string, signature: string | undefined, contentType = 'application/json') {
    return app.inject({
      method: 'POST',
      url: '/v1/webhooks/bank',
      headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'bank-signature': signature }) },
      payload: raw,
    });
  }

  function postSigned(event: WebhookEvent, secret = NEW_SECRET, at = nowSec()) {
    const raw = JSON.stringify(event);
    return post(raw, signWebhook(secret, at, raw));
  }

  const seen = async (eventId: string) => (await db('webhook_events').where({ event_id: eventId })).length;

  it('signals the order workflow with the charge result when the signature is good', async () => {
    const orderId = await waitingOrder();
    const event = bankEvent(orderId);
    const res = await postSigned(event);
    expect(res.statusCode).toBe(204);
    expect(await signalsTo(orderId)).toEqual([
      { name: 'bankChargeResult', args: [{ chargeId: event.data.chargeId, outcome: 'approved' }] },
    ]);
    expect(await seen(event.id)).toBe(1);
  });

  it('passes refusals on as their outcome', async () => {
    const orderId = await waitingOrder();
    const insufficient = bankEvent(orderId, 'charge.insufficient_funds');
    const declined = bankEvent(orderId, 'charge.declined');
    expect((await postSigned(insufficient)).statusCode).toBe(204);
    expect((await postSigned(declined)).statusCode).toBe(204);
    expect(await signalsTo(orderId)).toEqual([
      { name: 'bankChargeResult', args: [{ chargeId: insufficient.data.chargeId, outcome: 'insufficient_funds' }] },
      { name: 'bankChargeResult', args: [{ chargeId: declined.data.chargeId, outcome: 'declined' }] },
    ]);
  });

  it('acknowledges a redelivered event without a second signal', async () => {
    const orderId = await waitingOrder();
    const event = bankEvent(orderId);
    for (let i = 0; i < 3; i++) expect((await postSigned(event)).statusCode).toBe(204);
    // Redeliveries at once, as a bank retrying on a timeout might send them.
    const together = await Promise.all([postSigned(event), postSigned(event), postSigned(event)]);
    expect(together.map((r) => r.statusCode)).toEqual([204, 204, 204]);
    expect(await signalsTo(orderId)).toHaveLength(1);
    expect(await seen(event.id)).toBe(1);
  });

  it('refuses forged, tampered, stale, future and unsigned webhooks with 401, and nothing happens', async () => {
    const orderId = await waitingOrder();
    const event = bankEvent(orderId);
    const raw = JSON.stringify(event);
    const tampered = JSON.stringify({ ...event, data: { ...event.data, amountCents: 1 } });
    const cases: [string, string | undefined, string][] = [
      ['wrong secret', signWebhook('guessed-secret', nowSec(), raw), raw],
      ['tampered body', signWebhook(NEW_SECRET, nowSec(), raw), tampered],
      ['stale timestamp', signWebhook(NEW_SECRET, nowSec() - 400, raw), raw],
      ['future timestamp', signWebhook(NEW_SECRET, nowSec() + 400, raw), raw],
      ['no signature', undefined, raw],
      ['malformed signature', 'sha256=deadbeef', raw],
      [
        'timestamp swapped after signing',
        signWebhook(NEW_SECRET, nowSec() - 600, raw).replace(/^t=\d+/, `t=${nowSec()}`),
        raw,
      ],
    ];
    for (const [name, signature, body] of cases) {
      const res = await post(body, signature);
      expect({ name, status: res.statusCode, body: res.json() }).toEqual({
        name,
        status: 401,
        body: { error: 'invalid_signature', message: expect.any(String) },
      });
    }
    expect(await signalsTo(orderId)).toEqual([]);
    expect(await seen(event.id)).toBe(0);
    // The genuine event still goes through afterwards: the refusals did not mark it as seen.
    expect((await postSigned(event)).statusCode).toBe(204);
    expect(await signalsTo(orderId)).toHaveLength(1);
  });

  it('accepts the old and the new secret during a rotation', async () => {
    const orderId = await waitingOrder();
    expect((await postSigned(bankEvent(orderId), NEW_SECRET)).statusCode).toBe(204);
    expect((await postSigned(bankEvent(orderId), OLD_SECRET)).statusCode).toBe(204);
    expect(await signalsTo(orderId)).toHaveLength(2);
  });

  it('refuses a signed but malformed event with 400, and records nothing', async () => {
    const orderId = await waitingOrder();
    for (const raw of [
      '{"id":',
      JSON.stringify({ id: randomUUID(), type: 'charge.approved' }),
      JSON.stringify({
        ...bankEvent(orderId),
        data: { chargeId: 'c', reference: orderId, amountCents: 'lots', status: 'approved' },
      }),
    ]) {
      const res = await post(raw, signWebhook(NEW_SECRET, nowSec(), raw));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: expect.stringMatching(/^(invalid_json|validation_failed)$/),
        message: expect.any(String),
      });
    }
    expect(await signalsTo(orderId)).toEqual([]);
  });

  it('accepts a JSON content type with a charset parameter', async () => {
    const orderId = await waitingOrder();
    const raw = JSON.stringify(bankEvent(orderId));
    expect(
      (await post(raw, signWebhook(NEW_SECRET, nowSec(), raw), 'application/json; charset=utf-8')).statusCode,
    ).toBe(204);
    expect(await signalsTo(orderId)).toHaveLength(1);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await post('hello', signWebhook(NEW_SECRET, nowSec(), 'hello'), 'text/plain');
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toBe('unsupported_media_type');
  });

  it('records refunds and voids without signalling', async () => {
    const orderId = await waitingOrder();
    for (const type of ['charge.refunded', 'charge.voided'] as const) {
      const event = bankEvent(orderId, type);
      expect((await postSigned(event)).statusCode).toBe(204);
      expect(await seen(event.id)).toBe(1);
    }
    expect(await signalsTo(orderId)).toEqual([]);
  });

  it('acknowledges an event for an order that does not exist, so the bank stops retrying', async () => {
    const event = bankEvent(randomUUID());
    expect((await postSigned(event)).statusCode).toBe(204);
    expect(await seen(event.id)).toBe(1);
  });

  it('does not mark an event as seen when the signal could not be sent, so the bank retry lands', async () => {
    const orderId = await waitingOrder();
    const event = bankEvent(orderId);
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      BANK_WEBHOOK_SECRETS: NEW_SECRET,
    });
    // A Temporal client whose server is away: every signal fails with a transient error.
    const unavailable = {
      workflow: {
        getHandle: () => ({ signal: async () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) }),
      },
    } as unknown as Client;
    const down = await buildApp({ config, db, temporal: unavailable, logger: { level: 'silent' } });
    try {
      const raw = JSON.stringify(event);
      const res = await down.inject({
        method: 'POST',
        url: '/v1/webhooks/bank',
        headers: { 'content-type': 'application/json', 'bank-signature': signWebhook(NEW_SECRET, nowSec(), raw) },
        payload: raw,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
    }
    expect(await seen(event.id)).toBe(0);
    expect(await signalsTo(orderId)).toEqual([]);
    expect((await postSigned(event)).statusCode).toBe(204);
    expect(await signalsTo(orderId)).toHaveLength(1);
  });
});

describe('end to end: the bank pays an order through the webhook', () => {
  let stack: TestStack;
  let locationId: string;
  let productId: string;

  beforeAll(async () => {
    // The stack's bank signs with the first secret; a webhook signed with the second must pass too.
    stack = await startTestStack({ BANK_WEBHOOK_SECRETS: `${NEW_SECRET},${OLD_SECRET}`, PAYMENT_TIMEOUT_MS: '60000' });
    locationId = await createLocation(stack.db);
    productId = await createProduct(stack.db, { name: 'Webhook bun', price_cents: 400 });
    const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
    const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 100 },
    });
    expect(stocked.status).toBe(201);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function place(customer: { token: string }) {
    const slotId = await createSlot(stack.db, locationId);
    const res = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId,
        slotId,
        items: [{ productId, quantity: 2 }],
        address: { lat: 51.5, lng: -0.1, line1: '3 Webhook Way' },
      },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; status: string };
  }

  const orderOf = (id: string, token: string) => stack.api('GET', `/v1/orders/${id}`, { token });

  it('confirms the order once the bank approves and its signed webhook arrives', async () => {
    const customer = await createCustomer(stack, { balanceCents: 10_000 });
    const order = await place(customer);
    const confirmed = await eventually(
      () => orderOf(order.id, customer.token),
      (r) => r.body.status === 'confirmed',
    );
    expect(confirmed.body.status).toBe('confirmed');
    expect((await stack.bank.getAccount(customer.accountId)).balanceCents).toBe(10_000 - 800);
    expect(await stack.db('webhook_events').where({ reference: order.id, type: 'charge.approved' })).toHaveLength(1);
  });

  it('leaves the order alone on a forged webhook, and confirms it once on a genuine one signed with the old secret', async () => {
    // A silent bank never answers, so only our webhooks can move the order.
    const customer = await createCustomer(stack, { behavior: 'silent' });
    const order = await place(customer);
    const { chargeId } = await stack.client.workflow
      .getHandle(`order-${order.id}`)
      .query<{ chargeId: string }>('orderState');
    const event = bankEvent(order.id, 'charge.approved', { chargeId, amountCents: 800 });
    const raw = JSON.stringify(event);
    const send = (signature: string) =>
      stack.api('POST', '/v1/webhooks/bank', { body: raw, headers: { 'bank-signature': signature } });

    expect((await send(signWebhook('not-the-secret', nowSec(), raw))).status).toBe(401);
    expect((await send(signWebhook(OLD_SECRET, nowSec() - 400, raw))).status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect((await orderOf(order.id, customer.token)).body.status).toBe('awaiting_payment');

    expect((await send(signWebhook(OLD_SECRET, nowSec(), raw))).status).toBe(204);
    const confirmed = await eventually(
      () => orderOf(order.id, customer.token),
      (r) => r.body.status === 'confirmed',
    );
    expect(confirmed.body.status).toBe('confirmed');
    // The same event again, and a contradicting one for the same charge: neither has any effect now.
    expect((await send(signWebhook(NEW_SECRET, nowSec(), raw))).status).toBe(204);
    const declined = JSON.stringify(bankEvent(order.id, 'charge.declined', { chargeId, amountCents: 800 }));
    expect(
      (
        await stack.api('POST', '/v1/webhooks/bank', {
          body: declined,
          headers: { 'bank-signature': signWebhook(NEW_SECRET, nowSec(), declined) },
        })
      ).status,
    ).toBe(204);
    await new Promise((r) => setTimeout(r, 500));
    const after = await orderOf(order.id, customer.token);
    expect(after.body.status).toBe('confirmed');
    expect(after.body.timeline.filter((e: { status: string | null }) => e.status === 'confirmed')).toHaveLength(1);
  });
});
