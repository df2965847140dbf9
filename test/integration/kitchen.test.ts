// A kitchen system on the real stack: the owner's inbound secret, and messages signed with the standardwebhooks
// library over HTTP that move orders through the same workflow updates as the owner's buttons.
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderNumber } from '../../src/domain/vocabulary.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let locationId: string;
let product: string;
let slotId: string;
let owner: { id: string; token: string };
let operator: { id: string; token: string };
let customer: Awaited<ReturnType<typeof createCustomer>>;
let secret: string;

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Kitchen bakery' });
  product = await createProduct(stack.db, { name: 'Kitchen bun', price_cents: 250 });
  slotId = await createSlot(stack.db, locationId, { capacity: 50 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  operator = await createUser(stack.db, 'operator');
  customer = await createCustomer(stack);
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: product, quantity: 100 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

const integration = () => `/v1/locations/${locationId}/integrations/kitchen`;

/** Sends a kitchen message as its system would: the exact bytes signed, the headers Standard Webhooks names. */
async function send(
  body: unknown,
  opts: { key?: string; id?: string; at?: Date; headers?: Record<string, string>; to?: string } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const at = opts.at ?? new Date();
  const headers = opts.headers ?? {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(opts.key ?? secret).sign(id, at, raw),
  };
  return stack.api('POST', `/v1/integrations/kitchen/${opts.to ?? locationId}`, { body: raw, headers });
}

async function place(fulfilment: 'delivery' | 'collection' = 'delivery'): Promise<string> {
  const placed = await stack.api('POST', '/v1/orders', {
    token: customer.token,
    body: {
      locationId,
      slotId,
      items: [{ productId: product, quantity: 1 }],
      ...(fulfilment === 'collection'
        ? { fulfilment }
        : { address: { lat: 51.5, lng: -0.1, line1: '5 Kitchen Street' } }),
    },
  });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  const id = placed.body.id as string;
  await statusBecomes(id, 'confirmed');
  return id;
}

async function statusBecomes(id: string, status: string) {
  const res = await eventually(
    () => stack.api('GET', `/v1/orders/${id}`, { token: owner.token }),
    (r) => r.body.status === status,
  );
  expect(res.body.status).toBe(status);
  return res.body;
}

const statusOf = async (id: string) => (await stack.api('GET', `/v1/orders/${id}`, { token: owner.token })).body.status;
const statusEvents = async (id: string) =>
  (
    await stack
      .db('events')
      .where({ stream: `order:${id}`, type: 'order.status' })
      .select('payload')
  ).map((e: { payload: { status: string } }) => e.payload.status);

describe('the inbound secret', () => {
  it('is set by the owner, shown once, and reported without the secret', async () => {
    const before = await stack.api('GET', integration(), { token: owner.token });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ configured: false, createdAt: null, previousExpiresAt: null });
    expect(before.body.url).toMatch(new RegExp(`/v1/integrations/kitchen/${locationId}$`));

    // Before any secret, nothing can be verified.
    expect(
      (await send({ type: 'order.prepping', data: { orderId: randomUUID() } }, { key: 'whsec_' + 'A'.repeat(44) }))
        .status,
    ).toBe(401);

    const created = await stack.api('POST', `${integration()}/secret`, { token: owner.token });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body.previousExpiresAt).toBeNull();
    secret = created.body.secret;

    const after = await stack.api('GET', integration(), { token: operator.token });
    expect(after.body).toMatchObject({ configured: true, createdAt: created.body.createdAt, previousExpiresAt: null });
    expect(JSON.stringify(after.body)).not.toContain(secret.slice(6));
    // Only the location's owners make secrets.
    expect((await stack.api('POST', `${integration()}/secret`, { token: operator.token })).status).toBe(403);
  });
});

describe('a kitchen message', () => {
  it('moves a delivery order to prepping by id, then prepped by board number, as the buttons do', async () => {
    const id = await place();
    const prepping = await send({ type: 'order.prepping', data: { orderId: id } });
    expect(prepping.status, JSON.stringify(prepping.body)).toBe(200);
    expect(prepping.body).toEqual({ orderId: id, number: orderNumber(id), status: 'prepping', duplicate: false });

    const prepped = await send({ type: 'order.prepped', data: { number: orderNumber(id).toLowerCase() } });
    expect(prepped.status, JSON.stringify(prepped.body)).toBe(200);
    expect(prepped.body).toMatchObject({ orderId: id, status: 'prepped', duplicate: false });
    const order = await statusBecomes(id, 'prepped');
    expect(order.timeline.map((e: { status: string }) => e.status)).toEqual(
      expect.arrayContaining(['confirmed', 'prepping', 'prepped']),
    );
    // The delivery starts exactly as after the owner's prepped button.
    const delivery = await eventually(
      () => stack.db('deliveries').where({ order_id: id }).first('status'),
      (row) => row?.status === 'pending',
    );
    expect(delivery?.status).toBe('pending');
  });

  it('hands over a collection order: prepped, ready for collection, then collected', async () => {
    const id = await place('collection');
    for (const type of ['order.prepping', 'order.prepped']) {
      const res = await send({ type, data: { orderId: id } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await statusBecomes(id, 'ready_for_collection');
    const collected = await send({ type: 'order.collected', data: { number: orderNumber(id) } });
    expect(collected.status, JSON.stringify(collected.body)).toBe(200);
    expect(collected.body).toMatchObject({ orderId: id, status: 'completed', duplicate: false });
  });

  it('has no second effect when its webhook-id comes again, even re-signed later', async () => {
    const id = await place();
    const messageId = `msg_${randomUUID()}`;
    const body = { type: 'order.prepping', data: { orderId: id } };
    const first = await send(body, { id: messageId });
    expect(first.body).toMatchObject({ status: 'prepping', duplicate: false });
    const again = await send(body, { id: messageId, at: new Date(Date.now() + 2_000) });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toEqual({ orderId: id, number: orderNumber(id), status: 'prepping', duplicate: true });
    // Resent at once, both racing: still one step.
    const racing = await Promise.all([1, 2].map(() => send(body, { id: messageId })));
    expect(racing.map((r) => r.body.duplicate)).toEqual([true, true]);
    expect((await statusEvents(id)).filter((s) => s === 'prepping')).toHaveLength(1);
    // A new id is a new message: prepping again is refused by the order.
    expect((await send(body)).status).toBe(409);
  });

  it('is refused with 401 and changes nothing when forged, tampered, stale or unsigned', async () => {
    const id = await place();
    const body = { type: 'order.prepping', data: { orderId: id } };
    const raw = JSON.stringify(body);
    const messageId = `msg_${randomUUID()}`;
    const now = new Date();
    const signed = {
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(messageId, now, raw),
    };
    const refusals = [
      await send(body, { key: `whsec_${Buffer.from(randomUUID()).toString('base64')}` }),
      await send(JSON.stringify({ ...body, type: 'order.prepped' }), { headers: signed }),
      await send(body, { headers: { ...signed, 'webhook-id': `msg_${randomUUID()}` } }),
      await send(body, { at: new Date(Date.now() - 6 * 60_000) }),
      await send(body, { at: new Date(Date.now() + 6 * 60_000) }),
      await send(body, { headers: {} }),
      await send(body, { headers: { 'webhook-id': messageId, 'webhook-timestamp': signed['webhook-timestamp'] } }),
      // Signed for this location, sent to another.
      await send(body, { to: randomUUID() }),
      await send(body, { to: 'not-an-id' }),
    ];
    for (const res of refusals) {
      expect([res.status, res.body.error], JSON.stringify(res.body)).toEqual([401, 'invalid_signature']);
    }
    expect(await statusOf(id)).toBe('confirmed');
    expect(await stack.db('kitchen_messages').where({ order_id: id }).first()).toBeUndefined();
    // The same message, properly signed, goes through: the refusals left no trace of its id.
    expect((await send(raw, { headers: signed })).body).toMatchObject({ status: 'prepping', duplicate: false });
  });

  it('answers an invalid transition with 409, an unknown order with 404, and a bad body with 400 naming the field', async () => {
    const id = await place();
    const messageId = `msg_${randomUUID()}`;
    const early = await send({ type: 'order.prepped', data: { orderId: id } }, { id: messageId });
    expect(early.status).toBe(409);
    expect(early.body).toEqual({
      error: 'invalid_transition',
      message: 'Only a prepping order can move to prepped; this one is confirmed',
    });
    const notCollection = await send({ type: 'order.collected', data: { orderId: id } });
    expect(notCollection.status).toBe(409);
    expect(notCollection.body.message).toContain('collection');
    expect(await statusOf(id)).toBe('confirmed');
    // A refused message is not remembered: once the order is prepping, the same id goes through.
    expect((await send({ type: 'order.prepping', data: { orderId: id } })).status).toBe(200);
    const retried = await send({ type: 'order.prepped', data: { orderId: id } }, { id: messageId });
    expect(retried.body).toMatchObject({ status: 'prepped', duplicate: false });

    expect((await send({ type: 'order.prepping', data: { orderId: randomUUID() } })).status).toBe(404);
    // Another location's order is not this kitchen's to move.
    const elsewhere = await createLocation(stack.db, { name: 'Elsewhere' });
    const theirSlot = await createSlot(stack.db, elsewhere);
    const theirProduct = await createProduct(stack.db, { name: 'Elsewhere bun' });
    const theirOwner = await createUser(stack.db, 'owner', { locationIds: [elsewhere] });
    await stack.api('POST', `/v1/locations/${elsewhere}/stock`, {
      token: theirOwner.token,
      body: { productId: theirProduct, quantity: 5 },
    });
    const theirs = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: {
        locationId: elsewhere,
        slotId: theirSlot,
        items: [{ productId: theirProduct, quantity: 1 }],
        address: { lat: 51.5, lng: -0.1, line1: '6 Elsewhere' },
      },
    });
    expect(theirs.status, JSON.stringify(theirs.body)).toBe(201);
    const foreign = await send({ type: 'order.prepping', data: { orderId: theirs.body.id } });
    expect(foreign.status).toBe(404);
    const foreignNumber = await send({ type: 'order.prepping', data: { number: orderNumber(theirs.body.id) } });
    expect(foreignNumber.status).toBe(404);

    for (const [body, field] of [
      [{ type: 'order.cooked', data: { orderId: id } }, 'body.type'],
      [{ type: 'order.prepping' }, 'data'],
      [{ type: 'order.prepping', data: { orderId: 'nope' } }, 'body.data.orderId'],
      [{ type: 'order.prepping', data: { number: '12345' } }, 'body.data.number'],
      [{ type: 'order.prepping', data: {} }, 'orderId or number'],
      [{ type: 'order.prepping', data: { orderId: id, number: orderNumber(id) } }, 'orderId or number'],
    ] as const) {
      const res = await send(body);
      expect([res.status, res.body.error], JSON.stringify(body)).toEqual([400, 'validation_failed']);
      expect(res.body.message).toContain(field);
    }
    const notJson = await send('{"type":');
    expect([notJson.status, notJson.body.error]).toEqual([400, 'invalid_json']);
  });

  it('tells apart two active orders sharing a board number by the step, and refuses the number when both fit', async () => {
    const id = await place();
    // A second active order whose id starts like the first: the board shows both as the same number.
    const twin = `${id.slice(0, 4)}${randomUUID().slice(4)}`;
    await stack.db('orders').insert({
      id: twin,
      location_id: locationId,
      status: 'confirmed',
      total_cents: 250,
      fulfilment: 'collection',
    });
    const both = await send({ type: 'order.prepping', data: { number: orderNumber(id) } });
    expect(both.status).toBe(409);
    expect(both.body).toMatchObject({ error: 'ambiguous_number' });
    expect(both.body.message).toContain('orderId');
    expect(await statusOf(id)).toBe('confirmed');

    // Only one of them can start prepping: the number names that one.
    await stack.db('orders').where({ id: twin }).update({ status: 'prepped' });
    const one = await send({ type: 'order.prepping', data: { number: orderNumber(id) } });
    expect(one.body).toMatchObject({ orderId: id, status: 'prepping' });
    await stack.db('orders').where({ id: twin }).delete();
  });

  it('is verified with the old secret for 24 hours after a rotation, beside the new one', async () => {
    const old = secret;
    const rotated = await stack.api('POST', `${integration()}/secret`, { token: owner.token });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    const overlap = Date.parse(rotated.body.previousExpiresAt) - Date.parse(rotated.body.createdAt);
    expect(Math.abs(overlap - 24 * 3_600_000)).toBeLessThan(5_000);
    const status = await stack.api('GET', integration(), { token: owner.token });
    expect(status.body).toMatchObject({ configured: true, previousExpiresAt: rotated.body.previousExpiresAt });

    const a = await place();
    const b = await place();
    expect((await send({ type: 'order.prepping', data: { orderId: a } }, { key: old })).status).toBe(200);
    expect((await send({ type: 'order.prepping', data: { orderId: b } }, { key: fresh })).status).toBe(200);

    // Once the overlap is over, only the new secret verifies.
    await stack.db('kitchen_secrets').where({ location_id: locationId }).update({ previous_expires_at: new Date() });
    expect((await send({ type: 'order.prepped', data: { orderId: a } }, { key: old })).status).toBe(401);
    expect((await send({ type: 'order.prepped', data: { orderId: a } }, { key: fresh })).status).toBe(200);
    expect((await stack.api('GET', integration(), { token: owner.token })).body.previousExpiresAt).toBeNull();

    // A second rotation replaces the secret before it: the one from two rotations ago stops at once.
    const again = await stack.api('POST', `${integration()}/secret`, { token: owner.token });
    secret = again.body.secret;
    expect((await send({ type: 'order.prepped', data: { orderId: b } }, { key: old })).status).toBe(401);
    expect((await send({ type: 'order.prepped', data: { orderId: b } }, { key: fresh })).status).toBe(200);
  });
});
