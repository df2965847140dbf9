// The API's outer defences on the real database: rate limits with Retry-After, security headers that leave the pages' own CSP alone, CORS closed unless configured, and refusals in the one error shape.
import { Connection, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { temporalClient } from '../../src/temporal.js';
import { sweepRateLimitCounters } from '../../src/api/rate-limit-store.js';
import { createDb } from '../../src/db/knex.js';
import { createUser } from '../support/stack.js';
import '../support/context.js';

let db: Knex;
let connection: Connection;
let client: Client;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  db = createDb(inject('databaseUrl'));
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = temporalClient(loadConfig({ ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') }), connection);
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await connection?.close();
  await db?.destroy();
});

/** An API on the shared test database with settings of its own; nothing here starts a workflow, so no worker is needed. */
async function api(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    ...env,
  });
  const app = await buildApp({ config, db, temporal: client, logger: false });
  await app.ready();
  apps.push(app);
  return app;
}

function expectErrorShape(body: unknown, error: string) {
  expect(body).toEqual({ error, message: expect.any(String) });
}

// A body the schema refuses: the limit counts attempts, so no order (and no worker) is needed to reach it.
const badOrder = { locationId: 'not-a-uuid' };

describe('rate limits', () => {
  it('limit orders per customer, with 429, Retry-After and the one error shape', async () => {
    const app = await api({ RATE_LIMIT_ORDERS_PER_MINUTE: '3' });
    const [alice, bob] = [await createUser(db, 'customer'), await createUser(db, 'customer')];
    const place = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { authorization: `Bearer ${token}` },
        payload: badOrder,
      });
    for (let i = 0; i < 3; i++) expect((await place(alice.token)).statusCode).toBe(400);
    const limited = await place(alice.token);
    expect(limited.statusCode).toBe(429);
    expectErrorShape(limited.json(), 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Counted per customer, not per address: another customer from the same IP is not held back.
    expect((await place(bob.token)).statusCode).toBe(400);
    // Other routes are not limited by it.
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/orders/00000000-0000-4000-8000-000000000000',
          headers: { authorization: `Bearer ${alice.token}` },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('limit logins per address, whatever the token', async () => {
    const app = await api({ RATE_LIMIT_LOGIN_PER_MINUTE: '2' });
    const user = await createUser(db, 'driver');
    const login = (token: string) =>
      app.inject({ method: 'POST', url: '/v1/session', headers: { 'x-csrf': '1' }, payload: { token } });
    expect((await login('guess-1')).statusCode).toBe(401);
    expect((await login(user.token)).statusCode).toBe(200);
    const limited = await login(user.token);
    expect(limited.statusCode).toBe(429);
    expectErrorShape(limited.json(), 'rate_limited');
    // Seconds until the minute's window ends.
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another address has its own budget.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/session',
          remoteAddress: '10.1.2.3',
          headers: { 'x-csrf': '1' },
          payload: { token: user.token },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('share one budget across API replicas when the counters are in Postgres', async () => {
    const env = { RATE_LIMIT_STORE: 'postgres', RATE_LIMIT_ORDERS_PER_MINUTE: '3' };
    const [a, b] = [await api(env), await api(env)];
    const alice = await createUser(db, 'customer');
    const key = `POST /v1/orders|user:${alice.id}`;
    const place = (app: FastifyInstance) =>
      app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { authorization: `Bearer ${alice.token}` },
        payload: badOrder,
      });
    for (const app of [a, b, a]) expect((await place(app)).statusCode).toBe(400);
    // Each replica has seen fewer than three, yet together they have: the fourth is refused wherever it lands.
    const limited = await place(b);
    expect(limited.statusCode).toBe(429);
    expectErrorShape(limited.json(), 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(await db('rate_limit_counters').where({ key }).first('hits')).toEqual({ hits: 4 });

    // An ended window starts again, and the sweep deletes ended windows.
    const endWindow = () =>
      db('rate_limit_counters')
        .where({ key })
        .update({ window_ends_at: db.raw("now() - interval '1 second'") });
    await endWindow();
    expect((await place(a)).statusCode).toBe(400);
    expect(await db('rate_limit_counters').where({ key }).first('hits')).toEqual({ hits: 1 });
    await endWindow();
    expect(await sweepRateLimitCounters(db)).toBeGreaterThanOrEqual(1);
    expect(await db('rate_limit_counters').where({ key }).first()).toBeUndefined();
  });

  it('count each client behind a trusted proxy, and only behind one', async () => {
    const behindProxy = await api({ RATE_LIMIT_LOGIN_PER_MINUTE: '1', TRUST_PROXY: '1' });
    const login = (app: FastifyInstance, proxy: string, client: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/session',
        remoteAddress: proxy,
        headers: { 'x-csrf': '1', 'x-forwarded-for': client },
        payload: { token: 'nope' },
      });
    expect((await login(behindProxy, '10.9.9.9', '203.0.113.5')).statusCode).toBe(401);
    expect((await login(behindProxy, '10.9.9.9', '203.0.113.5')).statusCode).toBe(429);
    expect((await login(behindProxy, '10.9.9.9', '203.0.113.6')).statusCode).toBe(401);
    // Without TRUST_PROXY the header is the client's word, not evidence: every client of one address shares a budget.
    const direct = await api({ RATE_LIMIT_LOGIN_PER_MINUTE: '1' });
    expect((await login(direct, '10.9.9.8', '203.0.113.5')).statusCode).toBe(401);
    expect((await login(direct, '10.9.9.8', '203.0.113.6')).statusCode).toBe(429);
  });

  it('are off at 0', async () => {
    const app = await api({ RATE_LIMIT_LOGIN_PER_MINUTE: '0' });
    for (let i = 0; i < 15; i++) {
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/v1/session',
            headers: { 'x-csrf': '1' },
            payload: { token: 'nope' },
          })
        ).statusCode,
      ).toBe(401);
    }
  });
});

describe('security headers', () => {
  it('forbid JSON answers from loading or framing anything, and leave the pages their own CSP', async () => {
    const app = await api();
    const health = await app.inject({ url: '/healthz' });
    expect(health.headers['content-security-policy']).toBe(
      "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
    );
    expect(health.headers['x-content-type-options']).toBe('nosniff');
    expect(health.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(health.headers['referrer-policy']).toBe('no-referrer');
    expect(health.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    // Errors carry them too.
    expect((await app.inject({ url: '/nowhere' })).headers['content-security-policy']).toMatch(/default-src 'none'/);

    const page = await app.inject({ url: '/order' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const docs = await app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });
});

describe('requests no route serves', () => {
  it('answer 405 with Allow for a known path asked with another method, and 404 for an unknown path', async () => {
    const app = await api();
    const trace = await app.inject({ method: 'TRACE', url: '/healthz' });
    expect(trace.statusCode).toBe(405);
    expect(trace.headers.allow).toBe('GET, HEAD');
    expectErrorShape(trace.json(), 'method_not_allowed');
    // Fastify would refuse a QUERY without Content-Type while reading its body; the missing route is the answer.
    const query = await app.inject({ method: 'QUERY', url: '/v1/orders/00000000-0000-4000-8000-000000000000' });
    expect(query.statusCode).toBe(405);
    expect(query.headers.allow).toBe('GET, HEAD');
    // A static segment wins over a parameter, as in the router: /slots/events is not /slots/:slotId.
    const slots = await app.inject({
      method: 'DELETE',
      url: '/v1/locations/00000000-0000-4000-8000-000000000000/slots/events',
    });
    expect(slots.statusCode).toBe(405);
    expect(slots.headers.allow).toBe('GET, HEAD');
    const unknown = await app.inject({ method: 'GET', url: '/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expectErrorShape(unknown.json(), 'not_found');
  });
});

describe('CORS', () => {
  const preflight = (app: FastifyInstance, origin: string, headers = 'authorization,content-type') =>
    app.inject({
      method: 'OPTIONS',
      url: '/v1/orders',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    });

  it('is closed unless CORS_ORIGINS names origins', async () => {
    const app = await api();
    const res = await preflight(app, 'https://shop.example');
    // No preflight route: the path is known, the method is not.
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expectErrorShape(res.json(), 'method_not_allowed');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(
      (await app.inject({ url: '/healthz', headers: { origin: 'https://shop.example' } })).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined();
  });

  it('admits only the configured origins, with bearer tokens and never the session cookie', async () => {
    const app = await api({ CORS_ORIGINS: 'https://shop.example, http://localhost:5173' });
    const allowed = await preflight(app, 'https://shop.example');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/authorization/);
    expect(String(allowed.headers['access-control-allow-headers'])).not.toMatch(/x-csrf/);
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    expect(
      (await app.inject({ url: '/healthz', headers: { origin: 'https://evil.example' } })).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined();
    expect(
      (await app.inject({ url: '/healthz', headers: { origin: 'http://localhost:5173' } })).headers[
        'access-control-allow-origin'
      ],
    ).toBe('http://localhost:5173');
  });

  it('refuses a malformed CORS_ORIGINS at start', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://shop.example/' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: 'shop.example' })).toThrow(/CORS_ORIGINS/);
  });
});

describe('refusals keep the one error shape', () => {
  it('for a body too large, a wrong content type, malformed JSON and text Postgres cannot store', async () => {
    const app = await api();
    const user = await createUser(db, 'operator');
    const post = (payload: string, contentType: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/products',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': contentType },
        payload,
      });

    const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(70 * 1024) }), 'application/json');
    expect(tooLarge.statusCode).toBe(413);
    expectErrorShape(tooLarge.json(), 'body_too_large');

    const wrongType = await post('<product/>', 'application/xml');
    expect(wrongType.statusCode).toBe(415);
    expectErrorShape(wrongType.json(), 'unsupported_media_type');

    const malformed = await post('{"name": ', 'application/json');
    expect(malformed.statusCode).toBe(400);
    expectErrorShape(malformed.json(), 'invalid_json');

    const nul = await post(
      JSON.stringify({ name: 'bun\u0000', priceCents: 1, shelfLifeMinutes: 1 }),
      'application/json',
    );
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({ error: 'validation_failed', details: [{ field: '/body/name' }] });
    // JSON may escape half of a surrogate pair; jsonb refuses it.
    const surrogate = await post('{"name": "bun\\ud800", "priceCents": 1, "shelfLifeMinutes": 1}', 'application/json');
    expect(surrogate.statusCode).toBe(400);
    expect(surrogate.json()).toMatchObject({ error: 'validation_failed', details: [{ field: '/body/name' }] });
    expect((await app.inject({ url: '/v1/availability?lat=1&lng=1&q=%00' })).json()).toMatchObject({
      details: [{ field: '/querystring/q' }],
    });
    const leapSecond = await app.inject({ url: '/v1/availability?lat=1&lng=1&deliverBy=2016-12-31T23:59:60Z' });
    expect(leapSecond.statusCode).toBe(400);
  });
});
