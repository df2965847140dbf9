// Every route the API serves, who may call it (DESIGN.md's API table as statuses per caller), and a valid request for each: the authorization matrix and the fuzzer both read this one table.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  readBody,
  type TestStack,
} from './stack.js';

/** Who calls: nobody, or a user of a role, with "other" users of the same role who own nothing involved. */
export const PRINCIPALS = [
  'anonymous',
  'customer',
  'otherCustomer',
  'owner',
  'otherOwner',
  'driver',
  'otherDriver',
  'operator',
] as const;
export type Principal = (typeof PRINCIPALS)[number];

/** A status per caller. 2xx (and 3xx) means the caller got through; 401, 403 and 404 are the refusals. */
export type Access = Record<Principal, number>;

export interface SampleRequest {
  /** The concrete path, ids filled in. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteFixtures {
  /** Run by `owner`; has stock of `productId` and the slot `slotId`. */
  locationId: string;
  /** Run by `otherOwner`. */
  otherLocationId: string;
  productId: string;
  slotId: string;
  /** Orders of `customer` at `locationId`, each in the state the route that uses it needs. */
  orders: {
    /** Assigned to `driver`: everyone involved may read it. */
    read: string;
    /** Awaiting payment or confirmed: the customer may cancel it. */
    cancel: string;
    /** Confirmed: the owner may start prepping it. */
    prep: string;
    /** Prepped, its delivery pending: the owner may assign it. */
    assign: string;
    /** Assigned to `driver`: the driver may pick it up and then complete it. */
    deliver: string;
    /** A collection order ready for collection: the owner may hand it over. */
    collect: string;
    /** A counter order at `locationId`, confirmed: its location's owner may cancel it. */
    staffCancel: string;
  };
  /** A lot of `productId` at `locationId` with unreserved units to throw out. */
  lotId: number;
  users: Record<Exclude<Principal, 'anonymous'>, { id: string; token: string }>;
  /** The bank accounts of the two customers. */
  bankAccounts: Record<'customer' | 'otherCustomer', string>;
  /** A spare API token of each user, theirs to revoke. */
  spareTokenIds: Record<Exclude<Principal, 'anonymous'>, string>;
  /** A category no product is in, for the operator to delete. */
  removableCategoryId: string;
  /** Drivers at `locationId` for the owner and the operator to remove, one each. */
  removableStaff: Record<'owner' | 'operator', string>;
  /** Pending invitations to `locationId`: one for each staff manager to withdraw, and a link for each caller to accept. */
  invitations: { withdraw: Record<'owner' | 'operator', string>; accept: Record<Principal, string>; open: string };
  /** A webhook endpoint of `locationId` with one delivery, and another for its owner to remove. */
  webhooks: { endpointId: string; deliveryId: string; removableEndpointId: string };
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
  /** The pattern as registered, e.g. /v1/orders/:id. */
  url: string;
  /** Who may call it, in DESIGN.md's words. */
  who: string;
  access: Access;
  /** Answers with a Server-Sent Event stream when allowed. */
  stream?: boolean;
  /** A request the allowed callers get through with; path parameters, body and query filled from the fixtures. */
  sample(fx: RouteFixtures, principal: Principal): SampleRequest;
}

export const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The same status for every caller. */
function everyone(status: number): Access {
  return Object.fromEntries(PRINCIPALS.map((p) => [p, status])) as Access;
}

/** Anonymous callers get 401, the listed callers their status, every other signed-in caller 403 (a role that may never call the route). */
function signedIn(cells: Partial<Record<Exclude<Principal, 'anonymous'>, number>>): Access {
  return { ...everyone(403), anonymous: 401, ...cells };
}

/** Every signed-in caller gets `status`; anonymous ones 401. */
const anyoneSignedIn = (status: number): Access => ({ ...everyone(status), anonymous: 401 });

const uuidOf = (fx: RouteFixtures, principal: Principal) =>
  principal === 'anonymous' ? 'anonymous' : fx.users[principal].id;
const address = { lat: 51.51, lng: -0.1, line1: '1 Matrix Street' };

export const ROUTES: RouteSpec[] = [
  // --- pages, docs and operations: public ---
  ...['/', '/order', '/owner', '/driver', '/invitation.html'].map((url): RouteSpec => ({
    method: 'GET',
    url,
    who: 'anyone (a page)',
    access: everyone(200),
    sample: () => ({ path: url }),
  })),
  {
    method: 'GET',
    url: '/board/:locationId',
    who: 'anyone (the board page)',
    access: everyone(200),
    sample: (fx) => ({ path: `/board/${fx.locationId}` }),
  },
  {
    method: 'GET',
    url: '/assets/:name',
    who: 'anyone (page assets)',
    access: everyone(200),
    sample: () => ({ path: '/assets/style.css' }),
  },
  { method: 'GET', url: '/docs', who: 'anyone (OpenAPI UI)', access: everyone(200), sample: () => ({ path: '/docs' }) },
  {
    method: 'GET',
    url: '/docs/',
    who: 'anyone (OpenAPI UI)',
    access: everyone(200),
    sample: () => ({ path: '/docs/' }),
  },
  {
    method: 'GET',
    url: '/docs/static/index.html',
    who: 'anyone (OpenAPI UI, redirects to /docs/)',
    access: everyone(302),
    sample: () => ({ path: '/docs/static/index.html' }),
  },
  {
    method: 'GET',
    url: '/docs/static/swagger-initializer.js',
    who: 'anyone (OpenAPI UI)',
    access: everyone(200),
    sample: () => ({ path: '/docs/static/swagger-initializer.js' }),
  },
  {
    method: 'GET',
    url: '/docs/*',
    who: 'anyone (OpenAPI UI)',
    access: everyone(200),
    sample: () => ({ path: '/docs/static/swagger-ui.css' }),
  },
  {
    method: 'GET',
    url: '/docs/json',
    who: 'anyone (OpenAPI)',
    access: everyone(200),
    sample: () => ({ path: '/docs/json' }),
  },
  {
    method: 'GET',
    url: '/docs/yaml',
    who: 'anyone (OpenAPI)',
    access: everyone(200),
    sample: () => ({ path: '/docs/yaml' }),
  },
  { method: 'GET', url: '/healthz', who: 'ops', access: everyone(200), sample: () => ({ path: '/healthz' }) },
  { method: 'GET', url: '/readyz', who: 'ops', access: everyone(200), sample: () => ({ path: '/readyz' }) },
  {
    method: 'GET',
    url: '/metrics',
    who: 'ops (scraped from inside the network)',
    access: everyone(200),
    sample: () => ({ path: '/metrics' }),
  },
  ...(['decode', 'encode'] as const).map((step): RouteSpec => ({
    method: 'POST',
    url: `/codec/${step}`,
    who: 'operator (the Temporal Web UI and CLI, remote codec protocol)',
    access: signedIn({ operator: 200 }),
    // A JSON payload as the UI sends one: decode passes an unencrypted payload through, encode encrypts it.
    sample: () => ({
      path: `/codec/${step}`,
      headers: { 'x-namespace': 'default' },
      body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJvayI6dHJ1ZX0=' }] },
    }),
  })),
  {
    method: 'OPTIONS',
    url: '*',
    who: 'browsers on allowed origins (CORS preflight); none allowed unless CORS_ORIGINS is set, and without it 405 (the path takes POST only)',
    access: everyone(405),
    sample: () => ({
      path: '/v1/orders',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    }),
  },

  // --- session: a page exchanges its token for a cookie ---
  {
    method: 'POST',
    url: '/v1/session',
    who: 'anyone with a token',
    access: anyoneSignedIn(200),
    sample: (fx, p) => ({
      path: '/v1/session',
      body: { token: p === 'anonymous' ? 'not-a-token' : fx.users[p].token },
      headers: { 'x-csrf': '1' },
    }),
  },
  {
    method: 'GET',
    url: '/v1/session',
    who: 'anyone signed in',
    access: anyoneSignedIn(200),
    sample: () => ({ path: '/v1/session' }),
  },
  {
    method: 'DELETE',
    url: '/v1/session',
    who: 'anyone (logs the page out)',
    access: everyone(204),
    sample: () => ({ path: '/v1/session' }),
  },

  // --- accounts: sign-up is open; the rest is the caller's own ---
  {
    method: 'POST',
    url: '/v1/accounts',
    who: 'anyone (signs up a customer)',
    access: everyone(201),
    sample: (_fx, p) => ({
      path: '/v1/accounts',
      body: { email: `${p}-${randomUUID()}@matrix.test`, password: 'a matrix password', name: `Matrix ${p}` },
      headers: { 'x-csrf': '1' },
    }),
  },
  {
    method: 'GET',
    url: '/v1/me',
    who: 'anyone signed in',
    access: anyoneSignedIn(200),
    sample: () => ({ path: '/v1/me' }),
  },
  {
    method: 'PUT',
    url: '/v1/me/bank-account',
    who: 'customers (their own link)',
    access: signedIn({ customer: 200, otherCustomer: 200 }),
    sample: (fx, p) => ({
      path: '/v1/me/bank-account',
      body: { accountNumber: fx.bankAccounts[p === 'otherCustomer' ? 'otherCustomer' : 'customer'] },
    }),
  },
  {
    method: 'POST',
    url: '/v1/me/bank-account/test-account',
    who: 'customers, where the bank opens test accounts',
    access: signedIn({ customer: 201, otherCustomer: 201 }),
    sample: () => ({ path: '/v1/me/bank-account/test-account', body: {} }),
  },
  {
    method: 'POST',
    url: '/v1/me/tokens',
    who: 'anyone signed in (their own tokens)',
    access: anyoneSignedIn(201),
    sample: (_fx, p) => ({ path: '/v1/me/tokens', body: { name: `matrix ${p}` } }),
  },
  {
    method: 'GET',
    url: '/v1/me/tokens',
    who: 'anyone signed in (their own tokens)',
    access: anyoneSignedIn(200),
    sample: () => ({ path: '/v1/me/tokens' }),
  },
  {
    method: 'DELETE',
    url: '/v1/me/tokens/:id',
    who: 'anyone signed in (their own tokens)',
    access: anyoneSignedIn(204),
    sample: (fx, p) => ({ path: `/v1/me/tokens/${p === 'anonymous' ? randomUUID() : fx.spareTokenIds[p]}` }),
  },

  // --- outgoing webhooks: the location's owners manage them; operators may read ---
  {
    method: 'POST',
    url: '/v1/locations/:id/webhooks',
    who: 'owners of the location',
    access: signedIn({ owner: 201, otherOwner: 404 }),
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/webhooks`,
      body: { url: 'http://127.0.0.1:9/matrix', events: ['order.completed'] },
    }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/webhooks',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/webhooks` }),
  },
  {
    method: 'PATCH',
    url: '/v1/locations/:id/webhooks/:webhookId',
    who: 'owners of the location',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.endpointId}`,
      body: { description: 'Matrix receiver' },
    }),
  },
  {
    method: 'DELETE',
    url: '/v1/locations/:id/webhooks/:webhookId',
    who: 'owners of the location',
    access: signedIn({ owner: 204, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.removableEndpointId}` }),
  },
  {
    method: 'POST',
    url: '/v1/locations/:id/webhooks/:webhookId/secret',
    who: 'owners of the location',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.endpointId}/secret` }),
  },
  {
    method: 'POST',
    url: '/v1/locations/:id/webhooks/:webhookId/test',
    who: 'owners of the location',
    access: signedIn({ owner: 202, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.endpointId}/test` }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/webhooks/:webhookId/deliveries',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.endpointId}/deliveries` }),
  },
  {
    method: 'POST',
    url: '/v1/locations/:id/webhooks/:webhookId/deliveries/:deliveryId/retry',
    who: 'owners of the location',
    access: signedIn({ owner: 202, otherOwner: 404 }),
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/webhooks/${fx.webhooks.endpointId}/deliveries/${fx.webhooks.deliveryId}/retry`,
    }),
  },

  // --- staff: the location's owners and operators invite and remove; the link is the invitee's credential ---
  {
    method: 'POST',
    url: '/v1/locations/:id/staff',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 201, otherOwner: 404, operator: 201 }),
    sample: (fx, p) => ({
      path: `/v1/locations/${fx.locationId}/staff`,
      body: { email: `invitee-${p}-${randomUUID()}@matrix.test`, role: 'driver' },
    }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/staff',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/staff` }),
  },
  {
    method: 'DELETE',
    url: '/v1/locations/:id/staff/:userId',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 204, otherOwner: 404, operator: 204 }),
    sample: (fx, p) => ({
      path: `/v1/locations/${fx.locationId}/staff/${fx.removableStaff[p === 'operator' ? 'operator' : 'owner']}`,
    }),
  },
  {
    method: 'DELETE',
    url: '/v1/locations/:id/invitations/:invitationId',
    who: 'owners of the location, operators',
    access: signedIn({ owner: 204, otherOwner: 404, operator: 204 }),
    sample: (fx, p) => ({
      path: `/v1/locations/${fx.locationId}/invitations/${fx.invitations.withdraw[p === 'operator' ? 'operator' : 'owner']}`,
    }),
  },
  {
    method: 'GET',
    url: '/v1/invitations/:token',
    who: 'anyone with the link',
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/invitations/${fx.invitations.open}` }),
  },
  {
    method: 'POST',
    url: '/v1/invitations/:token/accept',
    who: 'anyone with the link (creates or joins the invited account)',
    access: everyone(200),
    sample: (fx, p) => ({
      path: `/v1/invitations/${fx.invitations.accept[p]}/accept`,
      body: { name: `Invited ${p}`, password: 'an invited password' },
      headers: { 'x-csrf': '1' },
    }),
  },

  // --- browsing: anyone ---
  {
    method: 'GET',
    url: '/v1/availability',
    who: 'anyone',
    access: everyone(200),
    sample: () => ({ path: '/v1/availability', query: { lat: '51.5', lng: '-0.1', limit: '5' } }),
  },
  {
    method: 'GET',
    url: '/v1/locations',
    who: 'anyone',
    access: everyone(200),
    sample: () => ({ path: '/v1/locations', query: { lat: '51.5', lng: '-0.1' } }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/slots',
    who: 'anyone',
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/slots` }),
  },

  // --- orders ---
  {
    method: 'POST',
    url: '/v1/orders',
    who: 'customer',
    access: signedIn({ customer: 201, otherCustomer: 201 }),
    sample: (fx, p) => ({
      path: '/v1/orders',
      body: {
        locationId: fx.locationId,
        slotId: fx.slotId,
        items: [{ productId: fx.productId, quantity: 1 }],
        address,
      },
      headers: { 'idempotency-key': `matrix-${uuidOf(fx, p)}` },
    }),
  },
  {
    method: 'GET',
    url: '/v1/orders/:id',
    who: 'the order’s customer, its location’s owners, its assigned driver, operators',
    access: signedIn({
      customer: 200,
      otherCustomer: 404,
      owner: 200,
      otherOwner: 404,
      driver: 200,
      otherDriver: 404,
      operator: 200,
    }),
    sample: (fx) => ({ path: `/v1/orders/${fx.orders.read}` }),
  },
  {
    method: 'POST',
    url: '/v1/orders/:id/cancel',
    who: 'the order’s customer; the owners of its location for a counter or collection order',
    access: signedIn({ customer: 200, otherCustomer: 404, owner: 200, otherOwner: 404 }),
    sample: (fx, p) => ({
      path: `/v1/orders/${p === 'owner' || p === 'otherOwner' ? fx.orders.staffCancel : fx.orders.cancel}/cancel`,
    }),
  },
  {
    method: 'POST',
    url: '/v1/orders/:id/prep',
    who: 'the owners of the order’s location',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/orders/${fx.orders.prep}/prep`, body: { status: 'prepping' } }),
  },
  {
    method: 'POST',
    url: '/v1/orders/:id/collect',
    who: 'the owners of the order’s location',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/orders/${fx.orders.collect}/collect` }),
  },
  {
    method: 'POST',
    url: '/v1/locations/:id/counter-orders',
    who: 'the location’s owners',
    access: signedIn({ owner: 201, otherOwner: 404 }),
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/counter-orders`,
      body: { items: [{ productId: fx.productId, quantity: 1 }], label: 'Matrix' },
    }),
  },

  // --- deliveries ---
  {
    method: 'GET',
    url: '/v1/deliveries',
    who: 'owners (their locations’), drivers (their own), operators (all)',
    access: signedIn({ owner: 200, otherOwner: 200, driver: 200, otherDriver: 200, operator: 200 }),
    sample: () => ({ path: '/v1/deliveries' }),
  },
  {
    method: 'POST',
    url: '/v1/deliveries/:id/assign',
    who: 'the owners of the order’s location',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/deliveries/${fx.orders.assign}/assign`, body: { driverId: fx.users.driver.id } }),
  },
  {
    method: 'POST',
    url: '/v1/deliveries/:id/pickup',
    who: 'the assigned driver',
    access: signedIn({ driver: 200, otherDriver: 403 }),
    sample: (fx) => ({ path: `/v1/deliveries/${fx.orders.deliver}/pickup` }),
  },
  {
    method: 'POST',
    url: '/v1/deliveries/:id/complete',
    who: 'the assigned driver',
    access: signedIn({ driver: 200, otherDriver: 403 }),
    sample: (fx) => ({ path: `/v1/deliveries/${fx.orders.deliver}/complete` }),
  },

  // --- catalog, stock and slot plans ---
  {
    method: 'POST',
    url: '/v1/products',
    who: 'operator; owners',
    access: signedIn({ owner: 201, otherOwner: 201, operator: 201 }),
    sample: () => ({ path: '/v1/products', body: { name: 'Matrix loaf', priceCents: 450, shelfLifeMinutes: 600 } }),
  },
  {
    method: 'GET',
    url: '/v1/categories',
    who: 'anyone',
    access: everyone(200),
    sample: () => ({ path: '/v1/categories' }),
  },
  {
    method: 'POST',
    url: '/v1/categories',
    who: 'operator',
    access: signedIn({ operator: 201 }),
    sample: () => ({ path: '/v1/categories', body: { name: `Matrix category ${randomUUID()}` } }),
  },
  {
    method: 'DELETE',
    url: '/v1/categories/:id',
    who: 'operator',
    access: signedIn({ operator: 204 }),
    sample: (fx) => ({ path: `/v1/categories/${fx.removableCategoryId}` }),
  },
  {
    method: 'POST',
    url: '/v1/locations',
    who: 'operator',
    access: signedIn({ operator: 201 }),
    sample: () => ({
      path: '/v1/locations',
      body: { name: 'Matrix kitchen', kind: 'kitchen', lat: 51.52, lng: -0.11, deliveryRadiusM: 3000 },
    }),
  },
  {
    // Locations are public, so refusing another location's owner with 403 reveals nothing.
    method: 'POST',
    url: '/v1/locations/:id/stock',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 201, otherOwner: 403, operator: 201 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/stock`, body: { productId: fx.productId, quantity: 5 } }),
  },
  {
    method: 'POST',
    url: '/v1/locations/:id/stock/:lotId/discard',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/stock/${fx.lotId}/discard`, body: { quantity: 1 } }),
  },
  {
    method: 'PATCH',
    url: '/v1/locations/:id',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    // The hours a test location has anyway, written back.
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}`, body: { opensAt: '00:00', closesAt: '23:59' } }),
  },
  {
    method: 'PUT',
    url: '/v1/locations/:id/slot-templates',
    who: 'the location’s owners',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/slot-templates`, body: [] }),
  },
  {
    // Once a day, so the plan the matrix leaves behind bakes nothing while the tests run.
    method: 'PUT',
    url: '/v1/locations/:id/production/:productId',
    who: 'the location’s owners',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/production/${fx.productId}`,
      body: { everyMinutes: 1440, quantity: 5 },
    }),
  },
  {
    // After the PUT above, which made the plan this pauses.
    method: 'PATCH',
    url: '/v1/locations/:id/production/:productId',
    who: 'the location’s owners',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/production/${fx.productId}`, body: { paused: true } }),
  },
  {
    // After the PUT above, which made the plan this stops.
    method: 'DELETE',
    url: '/v1/locations/:id/production/:productId',
    who: 'the location’s owners',
    access: signedIn({ owner: 204, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/production/${fx.productId}` }),
  },
  {
    method: 'PATCH',
    url: '/v1/locations/:id/slots/:slotId',
    who: 'the location’s owners',
    access: signedIn({ owner: 200, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/slots/${fx.slotId}`, body: { capacity: 200 } }),
  },

  // --- reading every resource back ---
  {
    method: 'GET',
    url: '/v1/locations/:id',
    who: 'anyone (where a location is, its radius and hours; never its owners)',
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}` }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/collection',
    who: 'anyone (the collection policy customers are shown)',
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/collection` }),
  },
  {
    method: 'PATCH',
    url: '/v1/locations/:id/collection',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    // The defaults, written back: the orders the other routes use keep their times.
    sample: (fx) => ({
      path: `/v1/locations/${fx.locationId}/collection`,
      body: { collectionWindowMinutes: 60, boardHoldMinutes: 30 },
    }),
  },
  {
    method: 'GET',
    url: '/v1/products',
    who: 'anyone',
    access: everyone(200),
    sample: () => ({ path: '/v1/products', query: { q: 'matrix', limit: '5' } }),
  },
  {
    method: 'GET',
    url: '/v1/products/:id',
    who: 'anyone',
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/products/${fx.productId}` }),
  },
  {
    // Products belong to no location, so every owner may change any, as every owner may add one.
    method: 'PATCH',
    url: '/v1/products/:id',
    who: 'operator; owners',
    access: signedIn({ owner: 200, otherOwner: 200, operator: 200 }),
    sample: (fx) => ({ path: `/v1/products/${fx.productId}`, body: { description: 'Baked for the matrix' } }),
  },
  {
    method: 'GET',
    url: '/v1/orders',
    who: 'customers (their own), owners (their locations’), operators (all); drivers read deliveries instead',
    access: signedIn({ customer: 200, otherCustomer: 200, owner: 200, otherOwner: 200, operator: 200 }),
    sample: () => ({ path: '/v1/orders', query: { limit: '5' } }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/stock',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/stock`, query: { productId: fx.productId } }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/slot-templates',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/slot-templates` }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/production',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/production` }),
  },

  // --- the bank: signed, never a user ---
  {
    method: 'POST',
    url: '/v1/webhooks/bank',
    who: 'the bank (HMAC signature); a user token grants nothing',
    access: everyone(401),
    sample: (fx) => ({
      path: '/v1/webhooks/bank',
      body: {
        id: 'evt',
        type: 'charge.approved',
        createdAt: new Date().toISOString(),
        data: { chargeId: 'c', reference: fx.orders.read, amountCents: 1, status: 'approved' },
      },
    }),
  },

  // --- kitchen and POS systems: the owner sets the secret; the kitchen system signs, never a user ---
  {
    method: 'POST',
    url: '/v1/locations/:id/integrations/kitchen/secret',
    who: 'the location’s owners',
    access: signedIn({ owner: 201, otherOwner: 404 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/integrations/kitchen/secret` }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/integrations/kitchen',
    who: 'the location’s owners; operators',
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/integrations/kitchen` }),
  },
  {
    method: 'POST',
    url: '/v1/integrations/kitchen/:locationId',
    who: 'the location’s kitchen system (Standard Webhooks signature); a user token grants nothing',
    access: everyone(401),
    sample: (fx) => ({
      path: `/v1/integrations/kitchen/${fx.locationId}`,
      body: { type: 'order.prepping', data: { orderId: fx.orders.prep } },
    }),
  },

  // --- live views (Server-Sent Events) ---
  {
    method: 'GET',
    url: '/v1/orders/:id/events',
    who: 'the order’s customer, its location’s owners, operators',
    stream: true,
    access: signedIn({ customer: 200, otherCustomer: 404, owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/orders/${fx.orders.read}/events` }),
  },
  {
    method: 'GET',
    url: '/v1/dashboard',
    who: 'owners (their locations)',
    access: signedIn({ owner: 200, otherOwner: 200 }),
    sample: () => ({ path: '/v1/dashboard' }),
  },
  {
    method: 'GET',
    url: '/v1/dashboard/events',
    who: 'owners (their locations)',
    stream: true,
    access: signedIn({ owner: 200, otherOwner: 200 }),
    sample: () => ({ path: '/v1/dashboard/events' }),
  },
  {
    method: 'GET',
    url: '/v1/driver/events',
    who: 'drivers (their own deliveries)',
    stream: true,
    access: signedIn({ driver: 200, otherDriver: 200 }),
    sample: () => ({ path: '/v1/driver/events' }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/slots/events',
    who: 'anyone',
    stream: true,
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/slots/events` }),
  },
  {
    method: 'GET',
    url: '/v1/locations/:id/events',
    who: 'the location’s owners; operators',
    stream: true,
    access: signedIn({ owner: 200, otherOwner: 404, operator: 200 }),
    sample: (fx) => ({ path: `/v1/locations/${fx.locationId}/events` }),
  },
  {
    method: 'GET',
    url: '/v1/board/:locationId/events',
    who: 'anyone (no personal data)',
    stream: true,
    access: everyone(200),
    sample: (fx) => ({ path: `/v1/board/${fx.locationId}/events` }),
  },
];

/**
 * Every method and URL the app serves, read from its route tree, so a route added anywhere shows up here. HEAD routes
 * Fastify adds beside each GET are left out: they answer exactly as their GET does.
 */
export function listAppRoutes(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const pathAt: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const branch = line.search(/[├└]── /);
    if (branch < 0) continue;
    const depth = branch / 4;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(branch + 4))!;
    pathAt[depth] = (depth > 0 ? pathAt[depth - 1]! : '') + match[1]!;
    pathAt.length = depth + 1;
    for (const method of match[2]?.split(', ') ?? []) {
      if (method !== 'HEAD') routes.push({ method, url: pathAt[depth]! });
    }
  }
  return routes;
}

/** Builds the users, locations and orders the samples point at; orders are moved through the real workflows into the states the table needs. */
export async function seedRouteFixtures(stack: TestStack): Promise<RouteFixtures> {
  const locationId = await createLocation(stack.db, { name: 'Matrix bakery' });
  const otherLocationId = await createLocation(stack.db, { name: 'Other bakery' });
  const productId = await createProduct(stack.db, { name: 'Matrix bun', price_cents: 200 });
  const slotId = await createSlot(stack.db, locationId, { capacity: 100 });
  const [customer, otherCustomer] = [await createCustomer(stack), await createCustomer(stack)];
  const users = {
    customer,
    otherCustomer,
    owner: await createUser(stack.db, 'owner', { locationIds: [locationId] }),
    otherOwner: await createUser(stack.db, 'owner', { locationIds: [otherLocationId] }),
    driver: await createUser(stack.db, 'driver', { locationIds: [locationId] }),
    otherDriver: await createUser(stack.db, 'driver', { locationIds: [locationId] }),
    operator: await createUser(stack.db, 'operator'),
  };
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: users.owner.token,
    body: { productId, quantity: 500 },
  });
  expect(stocked.status).toBe(201);

  const ownerAct = async (path: string, body: unknown, token = users.owner.token) => {
    const res = await stack.api('POST', path, { token, body });
    expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(200);
  };
  const place = async (
    until: 'awaiting_payment' | 'confirmed' | 'prepped' | 'assigned' | 'ready_for_collection',
  ): Promise<string> => {
    const collection = until === 'ready_for_collection';
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: collection
        ? { locationId, slotId, items: [{ productId, quantity: 1 }], fulfilment: 'collection' }
        : { locationId, slotId, items: [{ productId, quantity: 1 }], address },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const id = placed.body.id as string;
    if (until === 'awaiting_payment') return id;
    const confirmed = await eventually(
      () => stack.api('GET', `/v1/orders/${id}`, { token: customer.token }),
      (r) => r.body.status === 'confirmed',
    );
    expect(confirmed.body.status).toBe('confirmed');
    if (until === 'confirmed') return id;
    await ownerAct(`/v1/orders/${id}/prep`, { status: 'prepping' });
    await ownerAct(`/v1/orders/${id}/prep`, { status: 'prepped' });
    if (collection) return id;
    const pending = await eventually(
      () => stack.db('deliveries').where({ order_id: id }).first('status'),
      (row) => row?.status === 'pending',
    );
    expect(pending?.status).toBe('pending');
    if (until === 'prepped') return id;
    await ownerAct(`/v1/deliveries/${id}/assign`, { driverId: users.driver.id });
    return id;
  };

  const counterOrder = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
    token: users.owner.token,
    body: { items: [{ productId, quantity: 1 }], label: 'Matrix cancel' },
  });
  expect(counterOrder.status, JSON.stringify(counterOrder.body)).toBe(201);
  const orders = {
    read: await place('assigned'),
    cancel: await place('awaiting_payment'),
    prep: await place('confirmed'),
    assign: await place('prepped'),
    deliver: await place('assigned'),
    collect: await place('ready_for_collection'),
    staffCancel: counterOrder.body.id as string,
  };
  const asUser = async (principal: Exclude<Principal, 'anonymous'>, method: string, path: string, body?: unknown) => {
    const res = await stack.api(method, path, { token: users[principal].token, body });
    expect(res.status, `${method} ${path} ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  };
  const spareTokenIds = {} as RouteFixtures['spareTokenIds'];
  for (const principal of Object.keys(users) as (keyof typeof users)[])
    spareTokenIds[principal] = (await asUser(principal, 'POST', '/v1/me/tokens', { name: 'spare' })).id;
  const [removableCategory] = await stack
    .db('categories')
    .insert({ name: `Removable ${randomUUID()}` })
    .returning<{ id: string }[]>('id');
  const removableStaff = {
    owner: (await createUser(stack.db, 'driver', { locationIds: [locationId] })).id,
    operator: (await createUser(stack.db, 'driver', { locationIds: [locationId] })).id,
  };
  const invite = async () => {
    const body = await asUser('owner', 'POST', `/v1/locations/${locationId}/staff`, {
      email: `matrix-${randomUUID()}@matrix.test`,
      role: 'driver',
    });
    return { id: body.id as string, token: new URL(body.invitationUrl).hash.slice(1) };
  };
  const accept = {} as Record<Principal, string>;
  for (const principal of PRINCIPALS) accept[principal] = (await invite()).token;
  const invitations = {
    withdraw: { owner: (await invite()).id, operator: (await invite()).id },
    accept,
    open: (await invite()).token,
  };
  const addEndpoint = async () =>
    (
      await asUser('owner', 'POST', `/v1/locations/${locationId}/webhooks`, {
        url: 'http://127.0.0.1:9/matrix',
        events: ['order.completed', 'webhook.test'],
      })
    ).id as string;
  const endpointId = await addEndpoint();
  const { deliveryId } = await asUser('owner', 'POST', `/v1/locations/${locationId}/webhooks/${endpointId}/test`);
  const webhooks = { endpointId, deliveryId: deliveryId as string, removableEndpointId: await addEndpoint() };
  return {
    locationId,
    otherLocationId,
    productId,
    slotId,
    orders,
    lotId: stocked.body.id as number,
    users,
    bankAccounts: { customer: customer.accountId, otherCustomer: otherCustomer.accountId },
    spareTokenIds,
    removableCategoryId: removableCategory!.id,
    removableStaff,
    invitations,
    webhooks,
  };
}

/** Sends a sample as `principal`; a stream's status is read from its headers and the stream then closed. */
export async function send(
  stack: TestStack,
  route: RouteSpec,
  request: SampleRequest,
  token: string | undefined,
): Promise<{ status: number; body: any; headers: Headers }> {
  const url = new URL(request.path, stack.baseUrl);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { ...request.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const controller = new AbortController();
  const res = await fetch(url, {
    method: route.method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
    signal: controller.signal,
    redirect: 'manual',
  });
  if (route.stream && res.status === 200) {
    controller.abort();
    return { status: res.status, body: undefined, headers: res.headers };
  }
  return { status: res.status, body: await readBody(res), headers: res.headers };
}
