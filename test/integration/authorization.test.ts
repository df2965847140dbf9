// Who may call what: every route × every caller from one table (test/support/routes.ts), which must list every route the app serves, plus scoping of lists, the public board and the session cookie.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import {
  PRINCIPALS,
  ROUTES,
  listAppRoutes,
  routeKey,
  seedRouteFixtures,
  send,
  type Principal,
  type RouteFixtures,
} from '../support/routes.js';
import { openSse } from '../support/sse.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let fx: RouteFixtures;

beforeAll(async () => {
  stack = await startTestStack();
  fx = await seedRouteFixtures(stack);
});

afterAll(async () => {
  await stack?.stop();
});

const tokenOf = (principal: Principal) => (principal === 'anonymous' ? undefined : fx.users[principal].token);
const bearer = (principal: Exclude<Principal, 'anonymous'>) => ({
  authorization: `Bearer ${fx.users[principal].token}`,
});
const isRefusal = (status: number) => status === 401 || status === 403 || status === 404;

describe('the route table', () => {
  it('lists every route the app serves, and only those', async () => {
    // A second instance of the same app, only to read its routes: the table must follow any route added anywhere.
    const app = await buildApp({ config: stack.config, db: stack.db, temporal: stack.client, logger: false });
    await app.ready();
    const served = listAppRoutes(app).map(routeKey).sort();
    await app.close();
    expect(served.length).toBeGreaterThan(30);
    expect(served).toEqual(ROUTES.map(routeKey).sort());
  });
});

describe('the authorization matrix', () => {
  for (const route of ROUTES) {
    it(`${routeKey(route)}: ${route.who}`, async () => {
      // Refused callers go first: they must change nothing, and the allowed ones then find the state the samples need.
      const order = [...PRINCIPALS].sort(
        (a, b) => Number(!isRefusal(route.access[a])) - Number(!isRefusal(route.access[b])),
      );
      const got = {} as Record<Principal, number>;
      for (const principal of order) {
        const res = await send(stack, route, route.sample(fx, principal), tokenOf(principal));
        got[principal] = res.status;
        if (res.status >= 400) {
          expect(
            Object.keys(res.body as object).filter((k) => !['error', 'message', 'details'].includes(k)),
            `${principal}: ${JSON.stringify(res.body)}`,
          ).toEqual([]);
          expect(
            typeof res.body.error === 'string' && typeof res.body.message === 'string',
            `${principal}: ${JSON.stringify(res.body)}`,
          ).toBe(true);
        }
      }
      expect(got).toEqual(route.access);
    });
  }
});

describe('authentication before validation', () => {
  // Malformed ids, query and body: a caller who may not call the route must be refused before any of it is read.
  const garbage = (route: (typeof ROUTES)[number]) => ({
    path: route.url.replace(/:[A-Za-z]+/g, 'not-an-id'),
    query: { limit: 'many', cursor: '%%%', status: 'nonsense' },
    body: route.method === 'GET' || route.method === 'DELETE' ? undefined : { unexpected: [1, 2, 3] },
  });
  const isRoleRefusal = (route: (typeof ROUTES)[number], principal: Principal) => {
    // A refusal by role holds for both users of a role; one that only the "other" user gets is about the resource,
    // which the route can only judge after reading the ids it was given.
    const twin = principal.startsWith('other')
      ? ((principal.slice(5, 6).toLowerCase() + principal.slice(6)) as Principal)
      : (`other${principal[0]!.toUpperCase()}${principal.slice(1)}` as Principal);
    const refusal = (status: number | undefined) => status === 401 || status === 403;
    return refusal(route.access[principal]) && (!(twin in route.access) || refusal(route.access[twin]));
  };
  // The login takes its credentials in the body, so it has to read the body to refuse them.
  for (const route of ROUTES.filter((r) => routeKey(r) !== 'POST /v1/session')) {
    const refused = PRINCIPALS.filter((p) => isRoleRefusal(route, p));
    if (refused.length === 0) continue;
    it(`${routeKey(route)} refuses ${refused.join(', ')} whatever the request holds`, async () => {
      const got = {} as Record<string, number>;
      const want = {} as Record<string, number>;
      for (const principal of refused) {
        got[principal] = (await send(stack, route, garbage(route), tokenOf(principal))).status;
        want[principal] = route.access[principal];
      }
      expect(got).toEqual(want);
    });
  }
});

describe('someone else’s resources', () => {
  it('answer exactly like missing ones, so ids cannot be probed', async () => {
    const missing = randomUUID();
    const pairs: [string, string, string, Exclude<Principal, 'anonymous'>, unknown?][] = [
      ['GET', `/v1/orders/${fx.orders.read}`, `/v1/orders/${missing}`, 'otherCustomer'],
      ['POST', `/v1/orders/${fx.orders.read}/cancel`, `/v1/orders/${missing}/cancel`, 'otherCustomer'],
      ['POST', `/v1/orders/${fx.orders.read}/prep`, `/v1/orders/${missing}/prep`, 'otherOwner', { status: 'prepping' }],
      [
        'POST',
        `/v1/deliveries/${fx.orders.read}/assign`,
        `/v1/deliveries/${missing}/assign`,
        'otherOwner',
        { driverId: fx.users.driver.id },
      ],
    ];
    // Deliveries are the exception by design: a driver is told that another driver holds one (403, see DESIGN.md).
    for (const [method, theirs, nobodys, who, body] of pairs) {
      const a = await stack.api(method, theirs, { token: fx.users[who].token, body });
      const b = await stack.api(method, nobodys, { token: fx.users[who].token, body });
      expect([a.status, a.body], `${method} ${theirs} as ${who}`).toEqual([404, b.body]);
    }
  });

  it('never appear in lists: owners see their locations’ deliveries, drivers their own', async () => {
    const list = async (who: Exclude<Principal, 'anonymous'>) =>
      (await stack.api('GET', '/v1/deliveries?limit=200', { token: fx.users[who].token })).body.deliveries as {
        orderId: string;
        locationId: string;
        driverId: string | null;
      }[];
    expect((await list('owner')).map((d) => d.orderId)).toContain(fx.orders.read);
    expect((await list('owner')).every((d) => d.locationId === fx.locationId)).toBe(true);
    expect((await list('otherOwner')).some((d) => d.locationId === fx.locationId)).toBe(false);
    expect((await list('driver')).map((d) => d.orderId)).toContain(fx.orders.read);
    expect((await list('driver')).every((d) => d.driverId === fx.users.driver.id)).toBe(true);
    expect((await list('otherDriver')).some((d) => d.driverId !== fx.users.otherDriver.id)).toBe(false);
    expect((await list('operator')).map((d) => d.orderId)).toContain(fx.orders.read);

    const dashboard = await stack.api('GET', '/v1/dashboard', { token: fx.users.otherOwner.token });
    expect(dashboard.body.orders.some((o: { locationId: string }) => o.locationId === fx.locationId)).toBe(false);
  });
});

describe('the public board', () => {
  it('shows short numbers and states, never a customer, an address, a price or an order id', async () => {
    // The read order is assigned to a driver: prepped, so on the board.
    const board = await openSse(`${stack.baseUrl}/v1/board/${fx.locationId}/events`);
    try {
      const [snapshot] = await board.waitFor((e) => e.event === 'snapshot');
      const text = JSON.stringify(snapshot!.data);
      expect(snapshot!.data.orders.length).toBeGreaterThan(0);
      for (const order of snapshot!.data.orders) expect(Object.keys(order).sort()).toEqual(['number', 'state']);
      for (const secret of [fx.users.customer.id, fx.orders.read, 'Matrix Street', fx.users.driver.id])
        expect(text).not.toContain(secret);
    } finally {
      board.close();
    }
  });
});

describe('the session cookie', () => {
  it('stands for its token, and state changes made with it need the CSRF header', async () => {
    const login = await stack.api('POST', '/v1/session', {
      body: { token: fx.users.owner.token },
      headers: { 'x-csrf': '1' },
    });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    const cookie = setCookie.split(';')[0]!;

    const product = { name: 'Cookie roll', priceCents: 100, shelfLifeMinutes: 60 };
    const withoutHeader = await stack.api('POST', '/v1/products', { body: product, headers: { cookie } });
    expect([withoutHeader.status, withoutHeader.body.error]).toEqual([403, 'csrf_required']);
    expect(
      (await stack.api('POST', '/v1/products', { body: product, headers: { cookie, 'x-csrf': '1' } })).status,
    ).toBe(201);
    // Reading needs no header, and the cookie carries the owner's rights only.
    expect((await stack.api('GET', `/v1/orders/${fx.orders.read}`, { headers: { cookie } })).status).toBe(200);
    expect(
      (
        await stack.api('POST', '/v1/locations', {
          body: { name: 'X', kind: 'dc', lat: 0, lng: 0, deliveryRadiusM: 10 },
          headers: { cookie, 'x-csrf': '1' },
        })
      ).status,
    ).toBe(403);
    // Logging in needs the header too, or a cross-site form could sign a browser into someone else's account.
    expect((await stack.api('POST', '/v1/session', { body: { token: fx.users.owner.token } })).status).toBe(403);
    // A bearer token wins over the cookie and needs no CSRF header: it is never sent by a browser on its own.
    const asDriver = await stack.api('GET', '/v1/session', { headers: { cookie, ...bearer('driver') } });
    expect(asDriver.body.user.id).toBe(fx.users.driver.id);
  });

  it('stores only hashes of tokens', async () => {
    const rows = await stack
      .db('credentials')
      .whereIn(
        'user_id',
        Object.values(fx.users).map((u) => u.id),
      )
      .select<{ token_hash: string }[]>('token_hash');
    // Each user's token and the spare one the matrix revokes.
    expect(rows.length).toBeGreaterThanOrEqual(7);
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const tokens = Object.values(fx.users).map((u) => u.token);
    expect(rows.some((row) => tokens.includes(row.token_hash))).toBe(false);
  });
});
