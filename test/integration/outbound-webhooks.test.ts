// Outgoing webhooks on the real stack: real receivers on loopback that verify every delivery with the standardwebhooks
// library, orders moved by the owner's own routes, and the worker's delivery workflows on the dev server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES, orderNumber } from '../../src/domain/vocabulary.js';
import { historyCost } from '../../src/metrics/history-cost.js';
import { webhookWorkflowId } from '../../workflows/messages.js';
import {
  createLocation,
  createProduct,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

interface Arrival {
  webhookId: string;
  signature: string;
  body: { id: string; type: string; occurredAt: string; data: Record<string, unknown> };
  raw: string;
  headers: Record<string, string>;
  /** What the receiver answered: a status, or none (it hung or was stopped). */
  answered: number | null;
}

/** A receiver on loopback: verifies each request with the endpoint's secret, answers as `mode` says. */
class Receiver {
  arrivals: Arrival[] = [];
  mode: 'ok' | 'error' | 'hang' | 'gone' = 'ok';
  secrets: string[] = [];
  unverified = 0;
  private server: http.Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        if (!this.secrets.some((secret) => verifies(secret, raw, headers))) this.unverified++;
        const arrival: Arrival = {
          webhookId: headers['webhook-id']!,
          signature: headers['webhook-signature']!,
          body: JSON.parse(raw),
          raw,
          headers,
          answered: null,
        };
        this.arrivals.push(arrival);
        if (this.mode === 'hang') return;
        arrival.answered = this.mode === 'ok' ? 204 : this.mode === 'gone' ? 410 : 500;
        res.writeHead(arrival.answered).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Messages answered 2xx, by webhook-id. */
  delivered(): Map<string, Arrival> {
    return new Map(this.arrivals.filter((a) => a.answered === 204).map((a) => [a.webhookId, a]));
  }
}

function verifies(secret: string, raw: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(secret).verify(raw, headers);
    return true;
  } catch {
    return false;
  }
}

let stack: TestStack;
let locationId: string;
let productId: string;
let owner: { id: string; token: string };
let operator: { id: string; token: string };
const receivers: Receiver[] = [];
const ORDER_EVENTS = WEBHOOK_EVENT_TYPES.filter((t) => t.startsWith('order.'));

beforeAll(async () => {
  stack = await startTestStack(
    {
      // Quick retries so an outage of a few seconds is ridden out in the test's time; the real schedule is in
      // test/workflows/webhook-delivery.test.ts.
      WEBHOOK_RETRY_SCHEDULE_MS: Array.from({ length: 40 }, (_, i) => (i < 3 ? 200 * 2 ** i : 1000)).join(','),
      WEBHOOK_GIVE_UP_AFTER_MS: '120000',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_IDLE_RECHECK_MS: '3000',
    },
    undefined,
    { webhookWaker: true },
  );
  locationId = await createLocation(stack.db, { name: 'Webhook bakery' });
  productId = await createProduct(stack.db, { name: 'Webhook bun' });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  operator = await createUser(stack.db, 'operator');
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId, quantity: 500 },
  });
  expect(stocked.status).toBe(201);
});

afterAll(async () => {
  for (const r of receivers) await r.stop();
  await stack?.stop();
});

async function receiver(): Promise<Receiver> {
  const r = new Receiver();
  await r.start();
  receivers.push(r);
  return r;
}

async function addEndpoint(r: Receiver, events: readonly string[] = ORDER_EVENTS, url = r.url) {
  const res = await stack.api('POST', `/v1/locations/${locationId}/webhooks`, {
    token: owner.token,
    body: { url, events, description: 'test receiver' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.secret).toMatch(/^whsec_/);
  r.secrets.push(res.body.secret);
  return res.body as { id: string; secret: string };
}

const owned = (path: string, method = 'POST', body?: unknown) =>
  stack.api(method, `/v1/locations/${locationId}/webhooks${path}`, { token: owner.token, body });

/** A counter order taken through to collection: confirmed, prepping, prepped, ready, completed. */
async function runCounterOrder(): Promise<string> {
  const placed = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
    token: owner.token,
    body: { items: [{ productId, quantity: 1 }] },
  });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  const id = placed.body.id as string;
  for (const status of ['prepping', 'prepped']) {
    const res = await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  await eventually(
    () => stack.api('GET', `/v1/orders/${id}`, { token: owner.token }),
    (r) => r.body.status === 'ready_for_collection',
  );
  const collected = await stack.api('POST', `/v1/orders/${id}/collect`, { token: owner.token });
  expect(collected.status, JSON.stringify(collected.body)).toBe(200);
  return id;
}

/** The webhook ids of the orders' events as the log has them, in log order per order. */
async function expectedMessages(orderIds: string[]): Promise<Map<string, string[]>> {
  const rows = await stack
    .db('events')
    .where((q) =>
      q.where({ stream: `location:${locationId}`, type: 'order.status' }).orWhere((p) =>
        p
          .whereIn(
            'stream',
            orderIds.map((o) => `order:${o}`),
          )
          .andWhere({ type: 'order.placed' }),
      ),
    )
    .whereRaw("payload->>'orderId' = ANY(?)", [orderIds])
    .orderBy('id')
    .select<{ id: string; payload: { orderId: string } }[]>('id', 'payload');
  const byOrder = new Map<string, string[]>(orderIds.map((o) => [o, []]));
  for (const row of rows) byOrder.get(row.payload.orderId)!.push(`msg_${row.id}`);
  return byOrder;
}

/**
 * Every expected message arrived answered 2xx; no message of an order arrived before the order's earlier ones had
 * been answered 2xx; every copy of a message carries the same body.
 */
function checkDelivery(r: Receiver, expected: Map<string, string[]>) {
  const delivered = r.delivered();
  for (const [orderId, ids] of expected) {
    expect(ids.length, orderId).toBeGreaterThanOrEqual(5);
    for (const id of ids) expect(delivered.has(id), `${orderId} ${id}`).toBe(true);
    const done = new Set<string>();
    for (const arrival of r.arrivals.filter((a) => a.body.data.orderId === orderId)) {
      const position = ids.indexOf(arrival.webhookId);
      expect(position, arrival.webhookId).toBeGreaterThanOrEqual(0);
      for (const earlier of ids.slice(0, position))
        expect(done.has(earlier), `${earlier} before ${arrival.webhookId}`).toBe(true);
      if (arrival.answered === 204) done.add(arrival.webhookId);
    }
  }
  const bodies = new Map<string, string>();
  for (const a of r.arrivals) {
    expect(a.body.id).toBe(a.webhookId);
    const seen = bodies.get(a.webhookId);
    if (seen) expect(JSON.parse(a.raw)).toEqual(JSON.parse(seen));
    bodies.set(a.webhookId, a.raw);
  }
  expect(r.unverified).toBe(0);
}

describe('delivery', () => {
  it('delivers every event of several orders, signed, in order per order, at a small cost in history', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r);
    const orders = await Promise.all([runCounterOrder(), runCounterOrder(), runCounterOrder()]);
    const expected = await expectedMessages(orders);
    const total = [...expected.values()].reduce((n, ids) => n + ids.length, 0);
    await eventually(
      async () => r.delivered().size,
      (n) => n >= total,
      30_000,
    );
    checkDelivery(r, expected);
    const first = r.arrivals.find((a) => a.body.type === 'order.completed')!;
    expect(first.body.data).toMatchObject({
      orderId: first.body.data.orderId,
      number: orderNumber(first.body.data.orderId as string),
      status: 'completed',
      totalCents: 300,
    });
    expect(Date.parse(first.body.occurredAt)).not.toBeNaN();

    // The delivery log shows each delivery with its attempt, once the sender has recorded the receiver's answer.
    const log = await eventually(
      () =>
        stack.api('GET', `/v1/locations/${locationId}/webhooks/${endpoint.id}/deliveries?limit=200`, {
          token: operator.token,
        }),
      (res) =>
        res.status === 200 && (res.body.deliveries as { status: string }[]).every((d) => d.status === 'delivered'),
      30_000,
    );
    expect(log.status).toBe(200);
    expect(log.body.deliveries).toHaveLength(total);
    for (const d of log.body.deliveries) {
      expect(d.status).toBe('delivered');
      expect(d.attempts).toEqual([
        { at: expect.any(String), statusCode: 204, latencyMs: expect.any(Number), error: null },
      ]);
    }

    // What delivering cost the endpoint's workflow in Temporal, per delivered event.
    const handle = stack.client.workflow.getHandle(webhookWorkflowId(endpoint.id));
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as { events: { eventType: string }[] };
    const activities = history.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length;
    const cost = historyCost(history);
    // Activities count as actions too (one each, retries included), beside what historyCost reads from the history.
    const actions = cost.billableActions + activities;
    const perEvent = { events: cost.events / total, actions: actions / total, delivered: total };
    console.log(`webhook delivery cost: ${JSON.stringify({ ...cost, activities, actions, perEvent })}`);
    expect(activities).toBeGreaterThan(0);
    expect(perEvent.events).toBeLessThan(15);
  });

  it('rides out a receiver that fails, times out, then is down a while: every event arrives, none lost', async () => {
    const r = await receiver();
    await addEndpoint(r);
    r.mode = 'error';
    const orders = Promise.all([runCounterOrder(), runCounterOrder()]);
    await eventually(
      async () => r.arrivals.filter((a) => a.answered === 500).length,
      (n) => n >= 3,
    );
    r.mode = 'hang';
    await eventually(
      async () => r.arrivals.filter((a) => a.answered === null).length,
      (n) => n >= 2,
    );
    await r.stop();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    r.mode = 'ok';
    await r.start(r.port);
    const ids = await orders;
    const expected = await expectedMessages(ids);
    const total = [...expected.values()].reduce((n, list) => n + list.length, 0);
    await eventually(
      async () => r.delivered().size,
      (n) => n >= total,
      45_000,
    );
    checkDelivery(r, expected);
    expect(r.arrivals.length).toBeGreaterThan(total);
  });

  it('disables the endpoint on 410 Gone, says so in the event log, and resends what waited when enabled again', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r);
    r.mode = 'gone';
    const test = await owned(`/${endpoint.id}/test`);
    expect(test.status).toBe(202);
    const disabled = await eventually(
      async () => (await owned('', 'GET')).body.webhooks.find((w: { id: string }) => w.id === endpoint.id),
      (w) => w.enabled === false,
    );
    expect(disabled).toMatchObject({ enabled: false, disabledReason: 'gone' });
    const event = await stack
      .db('events')
      .where({ stream: `location:${locationId}`, type: 'webhook.disabled' })
      .whereRaw("payload->>'endpointId' = ?", [endpoint.id])
      .first('payload');
    expect(event?.payload).toMatchObject({ endpointId: endpoint.id, reason: 'gone' });
    expect((await owned(`/${endpoint.id}/test`)).status).toBe(409);

    r.mode = 'ok';
    const enabled = await owned(`/${endpoint.id}`, 'PATCH', { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null });
    await eventually(
      async () => r.delivered().size,
      (n) => n === 1,
    );
    expect([...r.delivered().values()][0]!.body).toMatchObject({
      type: 'webhook.test',
      data: { endpointId: endpoint.id },
    });
  });

  it('retries one delivery on request with the same webhook-id, and lists by status with a cursor', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r);
    for (let i = 0; i < 3; i++) expect((await owned(`/${endpoint.id}/test`)).status).toBe(202);
    await eventually(
      () => owned(`/${endpoint.id}/deliveries?status=delivered`, 'GET'),
      (res) => res.body.deliveries.length === 3,
    );
    const page = await owned(`/${endpoint.id}/deliveries?limit=2&status=delivered`, 'GET');
    expect(page.body.deliveries).toHaveLength(2);
    const rest = await owned(`/${endpoint.id}/deliveries?limit=2&cursor=${page.body.nextCursor}`, 'GET');
    expect(rest.body.deliveries).toHaveLength(1);
    expect((await owned(`/${endpoint.id}/deliveries?status=failed`, 'GET')).body.deliveries).toEqual([]);
    const [one] = rest.body.deliveries;
    const retried = await owned(`/${endpoint.id}/deliveries/${one.id}/retry`);
    expect(retried.status).toBe(202);
    await eventually(
      async () => r.arrivals.length,
      (n) => n === 4,
    );
    expect(r.arrivals.filter((a) => a.webhookId === one.webhookId)).toHaveLength(2);
    expect((await owned(`/${endpoint.id}/deliveries/999999999/retry`)).status).toBe(404);
  });
});

describe('wake-ups', () => {
  it('sends a delivery whose wake-up was lost at the next idle recheck', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r, ['webhook.test']);
    await owned(`/${endpoint.id}/test`);
    await eventually(
      async () => r.delivered().size,
      (n) => n === 1,
    );
    // Written without its NOTIFY, as if the waker had been down when it committed.
    await stack.db('webhook_deliveries').insert({
      endpoint_id: endpoint.id,
      type: 'webhook.test',
      ordering_key: 'test:lost',
      data: { message: 'no wake-up' },
      occurred_at: new Date(),
    });
    await eventually(
      async () => r.delivered().size,
      (n) => n === 2,
      15_000,
    );
    expect([...r.delivered().values()][1]!.body.data).toEqual({ message: 'no wake-up' });
  });

  it("listens again after losing its LISTEN connection, and starts a new endpoint's workflow", async () => {
    const killed = await stack.db.raw(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'webhook-waker'",
    );
    expect(killed.rows.length).toBeGreaterThan(0);
    await eventually(
      async () =>
        (await stack.db.raw("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'webhook-waker'"))
          .rows[0].n,
      (n) => n > 0,
    );
    // A fresh endpoint has no workflow, and so no timer: only the waker can start it.
    const r = await receiver();
    const endpoint = await addEndpoint(r, ['webhook.test']);
    await owned(`/${endpoint.id}/test`);
    await eventually(
      async () => r.delivered().size,
      (n) => n === 1,
    );
    expect(r.delivered().size).toBe(1);
  });

  it('costs a burst of events a few rounds of its workflow, not one each', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r, ['webhook.test']);
    const burst = 60;
    await Promise.all(Array.from({ length: burst }, () => owned(`/${endpoint.id}/test`)));
    await eventually(
      async () => r.delivered().size,
      (n) => n === burst,
      30_000,
    );
    await eventually(
      () => stack.db('webhook_deliveries').where({ endpoint_id: endpoint.id, status: 'delivered' }).count('* as n'),
      (rows) => Number(rows[0]!.n) === burst,
    );
    const handle = stack.client.workflow.getHandle(webhookWorkflowId(endpoint.id));
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as { events: { eventType: string }[] };
    const activities = history.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').length;
    const cost = historyCost(history);
    const actions = cost.billableActions + activities;
    console.log(
      `webhook burst cost: ${JSON.stringify({ burst, ...cost, activities, actions, perEvent: { events: cost.events / burst, actions: actions / burst } })}`,
    );
    expect(cost.events / burst).toBeLessThan(2);
  });
});

describe('secret rotation', () => {
  it('signs with both the old and the new secret during the overlap', async () => {
    const r = await receiver();
    const endpoint = await addEndpoint(r);
    const rotated = await owned(`/${endpoint.id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    await owned(`/${endpoint.id}/test`);
    await eventually(
      async () => r.delivered().size,
      (n) => n === 1,
    );
    const [arrival] = r.arrivals;
    expect(arrival!.signature.split(' ')).toHaveLength(2);
    expect(verifies(endpoint.secret, arrival!.raw, arrival!.headers)).toBe(true);
    expect(verifies(rotated.body.secret, arrival!.raw, arrival!.headers)).toBe(true);
    expect(verifies(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, arrival!.raw, arrival!.headers)).toBe(false);
  });
});

describe('endpoints', () => {
  it('refuses bad input naming the field, and only the owner may change them', async () => {
    const r = await receiver();
    const bad = [
      [{ url: 'ftp://example.com/x', events: ['order.placed'] }, 422, /url/],
      [{ url: 'https://user:pw@example.com/x', events: ['order.placed'] }, 422, /url/],
      [{ url: 'https://example.com/x', events: [] }, 400, /events/],
      [{ url: 'https://example.com/x', events: ['order.teleported'] }, 400, /events/],
      [{ url: 'https://example.com/x' }, 400, /events/],
    ] as const;
    for (const [body, status, field] of bad) {
      const res = await stack.api('POST', `/v1/locations/${locationId}/webhooks`, { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.message).toMatch(field);
      expect(res.body.error).toMatch(/^[a-z_]+$/);
    }
    const endpoint = await addEndpoint(r, ['order.completed']);
    const listed = await owned('', 'GET');
    expect(listed.body.webhooks.find((w: { id: string }) => w.id === endpoint.id)).not.toHaveProperty('secret');
    const patched = await owned(`/${endpoint.id}`, 'PATCH', {
      events: ['order.placed', 'webhook.test'],
      description: null,
    });
    expect(patched.body).toMatchObject({ events: ['order.placed', 'webhook.test'], description: null });
    const asOperator = await stack.api('PATCH', `/v1/locations/${locationId}/webhooks/${endpoint.id}`, {
      token: operator.token,
      body: { enabled: false },
    });
    expect(asOperator.status).toBe(403);
    expect((await owned(`/${endpoint.id}`, 'DELETE')).status).toBe(204);
    expect((await owned(`/${endpoint.id}`, 'DELETE')).status).toBe(404);
  });
});

describe('with private networks refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS=false)', () => {
  beforeAll(() => {
    stack.config.webhooks.allowPrivateNetworks = false;
  });
  afterAll(() => {
    stack.config.webhooks.allowPrivateNetworks = true;
  });

  it('refuses http and address literals outside the public internet when the endpoint is added', async () => {
    for (const url of [
      'http://example.com/hooks',
      'https://127.0.0.1/hooks',
      'https://10.1.2.3/hooks',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]:8443/hooks',
      'https://[::ffff:127.0.0.1]/hooks',
    ]) {
      const res = await stack.api('POST', `/v1/locations/${locationId}/webhooks`, {
        token: owner.token,
        body: { url, events: ['webhook.test'] },
      });
      expect(res.status, url).toBe(422);
      expect(res.body).toMatchObject({ error: 'invalid_url', message: expect.stringMatching(/^body\/url /) });
    }
  });

  it('refuses at delivery a name that resolves to loopback, and addresses allowed when the endpoint was added', async () => {
    const r = await receiver();
    // Added while private networks were allowed, then refused at each delivery once they are not.
    stack.config.webhooks.allowPrivateNetworks = true;
    const literal = await addEndpoint(r, ['webhook.test'], `https://127.0.0.1:${r.port}/hooks`);
    const plain = await addEndpoint(r, ['webhook.test'], r.url);
    stack.config.webhooks.allowPrivateNetworks = false;
    const named = await addEndpoint(r, ['webhook.test'], `https://localhost:${r.port}/hooks`);
    const cases = [
      [literal.id, /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback address/],
      [plain.id, /refused: only https/],
      [named.id, /refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/],
    ] as const;
    for (const [id] of cases) expect((await owned(`/${id}/test`)).status).toBe(202);
    for (const [id, error] of cases) {
      const log = await eventually(
        async () => (await owned(`/${id}/deliveries`, 'GET')).body.deliveries,
        (list) => list[0]?.attempts.length > 0,
      );
      expect(log[0].status).toBe('pending');
      expect(log[0].attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(error) });
    }
    expect(r.arrivals).toEqual([]);
    for (const [id] of cases) await owned(`/${id}`, 'DELETE');
  });
});
