// Customer data in Temporal on the real stack: an order's history as the Temporal service stores it holds no name,
// address or bank account; the codec endpoint decrypts it for operators only (bearer token or the Web UI's cookie
// call); and after a key rotation the worker and clients still read what the old key wrote.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Payload, ProtoFailure } from '@temporalio/common';
import { payloadToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { orderStateQuery, type OrderState } from '../../workflows/messages.js';
import {
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';
import '../support/context.js';

const keyOf = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/**
 * Every payload of ours in a raw history, wherever an event keeps it (input, result, update, local activity results,
 * user metadata). Left out: search attributes, which Temporal indexes, so no codec touches them (none of ours carries
 * personal data), and a local activity marker's bookkeeping (sequence, attempt, activity type, times), which the
 * SDK's core writes past the codec.
 */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return found;
  const record = value as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && 'encoding' in (record.metadata as object)) {
    found.push(record as Payload);
    return found;
  }
  for (const [key, child] of Object.entries(record)) {
    if (key === 'searchAttributes') continue;
    if (key === 'details' && 'markerName' in record) {
      const { data: _bookkeeping, ...ours } = child as Record<string, unknown>;
      payloadsIn(ours, found);
    } else payloadsIn(child, found);
  }
  return found;
}

/** Every failure in a raw history that carries encoded attributes (an activity's, a local activity's, a cause's). */
function failuresIn(value: unknown, found: ProtoFailure[] = []): ProtoFailure[] {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return found;
  const record = value as Record<string, unknown>;
  if ('encodedAttributes' in record && record.encodedAttributes) found.push(record as ProtoFailure);
  for (const child of Object.values(record)) failuresIn(child, found);
  return found;
}

/** Every byte and string of a raw history, search attributes included, as one buffer: what the Temporal service holds. */
function rawBytes(value: unknown, out: Buffer[] = []): Buffer {
  if (value instanceof Uint8Array) out.push(Buffer.from(value));
  else if (typeof value === 'string') out.push(Buffer.from(value, 'utf8'));
  else if (value !== null && typeof value === 'object') for (const child of Object.values(value)) rawBytes(child, out);
  return Buffer.concat(out);
}

/** The history as the Temporal service returns it, fetched past the client's data converter. */
async function rawHistory(client: Client, workflowId: string) {
  const events: unknown[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.connection.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

const keyIdOf = (payload: Payload) => Buffer.from(payload.metadata?.['encryption-key-id'] ?? []).toString('utf8');

describe('an order placed through the API', () => {
  let stack: TestStack;
  let operator: { id: string; token: string };
  let customer: { id: string; token: string };
  let orderId: string;
  let counterOrderId: string;
  const customerName = `Zebulon Quixotefield ${randomUUID().slice(0, 8)}`;
  const line1 = `${randomUUID().slice(0, 8)} Hidden Mews, London`;
  const counterLabel = `Philippa Marchbanks ${randomUUID().slice(0, 8)}`;
  let bankAccountId: string;

  beforeAll(async () => {
    stack = await startTestStack();
    const locationId = await createLocation(stack.db, { name: 'Codec bakery' });
    const productId = await createProduct(stack.db, { name: 'Codec loaf', price_cents: 350 });
    const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
    operator = await createUser(stack.db, 'operator');
    customer = await createUser(stack.db, 'customer', { name: customerName });
    const account = await stack.bank.createAccount({
      holderName: customerName,
      balanceCents: 100_000,
      behavior: 'normal',
      decisionDelayMs: 0,
    });
    bankAccountId = account.id;
    await stack.db('users').where({ id: customer.id }).update({ bank_account_id: bankAccountId });
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: owner.token,
          body: { productId, quantity: 20 },
        })
      ).status,
    ).toBe(201);
    const slotId = await createSlot(stack.db, locationId);
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { locationId, slotId, items: [{ productId, quantity: 2 }], address: { lat: 51.5, lng: -0.1, line1 } },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    orderId = placed.body.id;
    // Paid: the bank's id for the charge and the account are in the workflow's state and the activities' results.
    await eventually(
      () => stack.api('GET', `/v1/orders/${orderId}`, { token: customer.token }),
      (r) => r.body.status === 'confirmed',
    );
    const counter = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: owner.token,
      body: { items: [{ productId, quantity: 1 }], label: counterLabel },
    });
    expect(counter.status, JSON.stringify(counter.body)).toBe(201);
    counterOrderId = counter.body.id;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('leaves no customer name, address or bank account in the history Temporal stores', async () => {
    const workflowState = await stack.client.workflow.getHandle(`order-${orderId}`).query(orderStateQuery);
    expect(workflowState.status).toBe('confirmed');
    for (const [workflowId, secrets] of [
      [`order-${orderId}`, [customerName, line1, bankAccountId, 'Hidden Mews']],
      [`order-${counterOrderId}`, [counterLabel, 'Marchbanks']],
    ] as const) {
      const events = await rawHistory(stack.client, workflowId);
      const payloads = payloadsIn(events);
      // The start's input, its summary and details, the placement update, activity results, the bank's signal.
      expect(payloads.length).toBeGreaterThan(5);
      expect(payloads.every((p) => Buffer.from(p.metadata!.encoding!).toString() === 'binary/encrypted')).toBe(true);
      const stored = rawBytes(events);
      // The search finds what is stored in clear, the workflow's own id among it.
      expect(stored.includes(workflowId)).toBe(true);
      for (const secret of secrets) expect(stored.includes(secret), secret).toBe(false);
    }
  });

  it("keeps a failure's message encrypted as well: the bank's refusal that names the account, read by an operator", async () => {
    // A customer whose bank account the bank does not know: the charge request is refused with a message naming it.
    const locationId = await createLocation(stack.db, { name: 'Codec refusals' });
    const productId = await createProduct(stack.db, { name: 'Refused roll', price_cents: 150 });
    const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
    const stranger = await createUser(stack.db, 'customer');
    const unknownAccount = randomUUID();
    await stack.db('users').where({ id: stranger.id }).update({ bank_account_id: unknownAccount });
    await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 5 },
    });
    const placed = await stack.api('POST', '/v1/orders', {
      token: stranger.token,
      body: {
        locationId,
        slotId: await createSlot(stack.db, locationId),
        items: [{ productId, quantity: 1 }],
        address: { lat: 51.5, lng: -0.1, line1: '2 Refusal Row' },
      },
    });
    // The order ends unpaid at placement, what it held given back, and the customer is told why.
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body).toMatchObject({ status: 'payment_failed', reason: 'charge_refused' });
    const workflowId = `order-${placed.body.id}`;
    expect(await stack.client.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'payment_failed' });

    const events = await rawHistory(stack.client, workflowId);
    const failures = failuresIn(events);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
      expect(Buffer.from(failure.encodedAttributes!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    }
    expect(rawBytes(events).includes(unknownAccount)).toBe(false);

    const decoded = await stack.api('POST', '/codec/decode', {
      token: operator.token,
      body: { payloads: failures.map((f) => payloadToJSON(f.encodedAttributes!)) },
    });
    expect(decoded.status).toBe(200);
    const messages = (decoded.body.payloads as { data: string }[]).map(
      (p) => (JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as { message: string }).message,
    );
    expect(
      messages.some((m) => m.includes(`Account ${unknownAccount}`)),
      messages.join('\n'),
    ).toBe(true);
  });

  it('decodes those payloads for an operator through the codec endpoint, as the Web UI asks', async () => {
    const payloads = payloadsIn(await rawHistory(stack.client, `order-${orderId}`)).map((p) => payloadToJSON(p));
    const decoded = await stack.api('POST', '/codec/decode', {
      token: operator.token,
      headers: { 'x-namespace': stack.config.temporal.namespace },
      body: { payloads },
    });
    expect(decoded.status, JSON.stringify(decoded.body)).toBe(200);
    expect(decoded.body.payloads).toHaveLength(payloads.length);
    const plain = (decoded.body.payloads as { data?: string }[])
      .map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8'))
      .join('\n');
    expect(plain).toContain(line1);
    expect(plain).toContain(bankAccountId);
    expect(plain).toContain(`"orderId":"${orderId}"`);

    // What the UI sends back (encode) decodes to the same payload again.
    const encoded = await stack.api('POST', '/codec/encode', {
      token: operator.token,
      body: { payloads: decoded.body.payloads.slice(0, 1) },
    });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    const again = await stack.api('POST', '/codec/decode', { token: operator.token, body: encoded.body });
    expect(again.body.payloads).toEqual(decoded.body.payloads.slice(0, 1));
  });

  it('lets the temporal CLI read the history and query the order through the codec, with an operator token', async () => {
    const cli = (...args: string[]) =>
      promisify(execFile)(inject('temporalCliPath'), [
        ...args,
        '--address',
        inject('temporalAddress'),
        '--codec-endpoint',
        `${stack.baseUrl}/codec`,
        '--codec-auth',
        `Bearer ${operator.token}`,
      ]);
    const shown = await cli('workflow', 'show', '--workflow-id', `order-${orderId}`, '--detailed');
    expect(shown.stdout).toContain(line1);
    const queried = await cli('workflow', 'query', '--workflow-id', `order-${orderId}`, '--type', 'orderState');
    expect(queried.stdout).toContain('"status":"confirmed"');
  });

  it('refuses a customer and an anonymous caller before reading the body', async () => {
    const payloads = payloadsIn(await rawHistory(stack.client, `order-${orderId}`))
      .slice(0, 1)
      .map((p) => payloadToJSON(p));
    const asCustomer = await stack.api('POST', '/codec/decode', { token: customer.token, body: { payloads } });
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.body).toEqual({ error: 'forbidden', message: 'This needs the operator role' });
    const anonymous = await stack.api('POST', '/codec/decode', { body: { payloads } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'unauthorized' });
    expect((await stack.api('POST', '/codec/encode', { body: 'not json' })).status).toBe(401);
  });

  it("answers the Web UI's cross-origin call with the operator's session cookie, and only from the UI's origin", async () => {
    const uiOrigin = stack.config.temporal.uiOrigins[0]!;
    const preflight = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: uiOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-namespace');

    const login = await fetch(`${stack.baseUrl}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf': '1' },
      body: JSON.stringify({ token: operator.token }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const payloads = payloadsIn(await rawHistory(stack.client, `order-${orderId}`))
      .slice(0, 2)
      .map((p) => payloadToJSON(p));
    // As the UI sends it with "include cross-origin credentials": the cookie, and no header of ours (no x-csrf).
    const fromUi = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { origin: uiOrigin, cookie, 'content-type': 'application/json', 'x-namespace': 'default' },
      body: JSON.stringify({ payloads }),
    });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(fromUi.headers.get('access-control-allow-credentials')).toBe('true');

    const elsewhere = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    // The API's other routes keep CORS closed and never take the cookie cross-origin.
    const api = await fetch(`${stack.baseUrl}/v1/orders`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST' },
    });
    expect(api.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('names a payload it cannot decrypt, and a namespace it does not serve', async () => {
    const [payload] = payloadsIn(await rawHistory(stack.client, `order-${orderId}`)).map((p) => payloadToJSON(p));
    const foreign = {
      ...payload,
      metadata: { ...payload!.metadata, 'encryption-key-id': Buffer.from('k9').toString('base64') },
    };
    const unknownKey = await stack.api('POST', '/codec/decode', {
      token: operator.token,
      body: { payloads: [foreign] },
    });
    expect(unknownKey.status).toBe(422);
    expect(unknownKey.body).toEqual({
      error: 'payload_undecodable',
      message: 'A payload is encrypted with key "k9", which PAYLOAD_CODEC_KEYS does not hold (it holds "dev")',
    });
    const otherNamespace = await stack.api('POST', '/codec/decode', {
      token: operator.token,
      headers: { 'x-namespace': 'someone-else' },
      body: { payloads: [payload] },
    });
    expect(otherNamespace.status).toBe(400);
    expect(otherNamespace.body.error).toBe('unknown_namespace');
  });
});

describe('a key rotation', () => {
  const k1 = keyOf('k1');
  const k2 = keyOf('k2');
  const taskQueue = `rotation-${randomUUID()}`;
  let before: TestStack | undefined;
  let after: TestStack | undefined;
  let k2Only: TestStack | undefined;

  afterAll(async () => {
    await before?.stop();
    await after?.stop();
    await k2Only?.stop();
  });

  it('keeps reading histories written with the old key: describe, query, the next steps and the result', async () => {
    // Written with k1 alone, then the worker stops halfway through the order.
    before = await startTestStack({ PAYLOAD_CODEC_KEYS: k1, TEMPORAL_TASK_QUEUE: taskQueue });
    const locationId = await createLocation(before.db, { name: 'Rotation bakery' });
    const productId = await createProduct(before.db, { name: 'Rotation bun', price_cents: 200 });
    const owner = await createUser(before.db, 'owner', { locationIds: [locationId] });
    await before.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 5 },
    });
    const placed = await before.api('POST', `/v1/locations/${locationId}/counter-orders`, {
      token: owner.token,
      body: { items: [{ productId, quantity: 2 }], label: 'Rotation guest' },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const orderId = placed.body.id as string;
    const workflowId = `order-${orderId}`;
    expect(
      (await before.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status: 'prepping' } }))
        .status,
    ).toBe(200);
    await before.stop();
    before = undefined;

    // k2 encrypts now; k1 still decrypts. A fresh worker on the same queue replays the k1 history from the start.
    after = await startTestStack({ PAYLOAD_CODEC_KEYS: `${k2},${k1}`, TEMPORAL_TASK_QUEUE: taskQueue });
    const handle = after.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(await description.staticSummary()).toMatch(
      /^Order [0-9A-F]{4} · 2 items · £4\.00 · Rotation bakery · collection$/,
    );
    const state: OrderState = await handle.query(orderStateQuery);
    expect(state.status).toBe('prepping');
    for (const status of ['prepped'] as const) {
      const res = await after.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await after.api('POST', `/v1/orders/${orderId}/collect`, { token: owner.token })).status).toBe(200);
    const result = await handle.result();
    expect(result).toMatchObject({ orderId, status: 'completed' });

    // The history holds both: the start under k1, the steps after the rotation under k2.
    const keyIds = payloadsIn(await rawHistory(after.client, workflowId)).map(keyIdOf);
    expect(keyIds[0]).toBe('k1');
    expect(keyIds.at(-1)).toBe('k2');
    expect(new Set(keyIds)).toEqual(new Set(['k1', 'k2']));

    // Without k1 the history cannot be read, and the error says which key is missing.
    k2Only = await startTestStack({ PAYLOAD_CODEC_KEYS: k2, TEMPORAL_TASK_QUEUE: `k2-only-${randomUUID()}` });
    const blind = await k2Only.client.workflow.getHandle(workflowId).describe();
    await expect(blind.staticSummary()).rejects.toThrow(
      'A payload is encrypted with key "k1", which PAYLOAD_CODEC_KEYS does not hold (it holds "k2")',
    );
  });
});
