// Accounts on the real stack: sign-up to a first order, password login and logout, API tokens, staff invitations from
// link to removal, guessing slowed then refused, and bad input that writes nothing and leaks nothing.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import {
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
let productId: string;
let slotId: string;
let owner: { id: string; token: string };

const csrf = { 'x-csrf': '1' };
const email = (who: string) => `${who}-${randomUUID()}@accounts.test`;
const cookieOf = (res: { headers: Headers }) => res.headers.get('set-cookie')?.split(';')[0];
const address = { lat: 51.5, lng: -0.1, line1: '2 Account Road' };

beforeAll(async () => {
  // Sign-ups from this one address would pass the per-address limit of a minute; the throttle under test is per email.
  stack = await startTestStack({ LOGIN_FAILURES_PER_EMAIL: '5', RATE_LIMIT_LOGIN_PER_MINUTE: '0' });
  locationId = await createLocation(stack.db, { name: 'Account bakery' });
  productId = await createProduct(stack.db, { name: 'Account bun', price_cents: 250 });
  slotId = await createSlot(stack.db, locationId, { capacity: 50 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  expect(
    (
      await stack.api('POST', `/v1/locations/${locationId}/stock`, {
        token: owner.token,
        body: { productId, quantity: 100 },
      })
    ).status,
  ).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

async function signUp(who = 'cleo', password = 'a fine long password') {
  const body = { email: email(who), password, name: `Cleo ${who}` };
  const res = await stack.api('POST', '/v1/accounts', { body, headers: csrf });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { ...body, user: res.body.user, cookie: cookieOf(res)! };
}

describe('sign-up', () => {
  it('creates a customer, logs the page in, and leads to a first order once a bank account is linked', async () => {
    const account = await signUp();
    expect(account.user).toMatchObject({ email: account.email, role: 'customer', locationIds: [] });
    const session = { cookie: account.cookie, ...csrf };
    const me = await stack.api('GET', '/v1/me', { headers: session });
    expect(me.body).toMatchObject({
      user: { id: account.user.id },
      bankAccount: { linked: false },
      testBankAccounts: true,
    });

    const order = { locationId, slotId, items: [{ productId, quantity: 2 }], address };
    const unpaid = await stack.api('POST', '/v1/orders', { headers: session, body: order });
    expect([unpaid.status, unpaid.body.error]).toEqual([409, 'no_payment_method']);

    const opened = await stack.api('POST', '/v1/me/bank-account/test-account', { headers: session, body: {} });
    expect(opened.status).toBe(201);
    expect(opened.body.bankAccount).toMatchObject({ linked: true });
    expect((await stack.bank.getAccount(opened.body.bankAccount.accountNumber)).holderName).toBe(account.name);

    const placed = await stack.api('POST', '/v1/orders', { headers: session, body: order });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const confirmed = await eventually(
      () => stack.api('GET', `/v1/orders/${placed.body.id}`, { headers: session }),
      (r) => r.body.status === 'confirmed',
    );
    expect(confirmed.body.status).toBe('confirmed');
    const history = await stack.api('GET', '/v1/orders', { headers: session });
    expect(history.body.items.map((o: { id: string }) => o.id)).toEqual([placed.body.id]);
  });

  it('links an account the bank knows, and refuses one it does not', async () => {
    const account = await signUp('linker');
    const session = { cookie: account.cookie, ...csrf };
    const existing = await stack.bank.createAccount({ holderName: 'Linker', balanceCents: 5_000 });
    const linked = await stack.api('PUT', '/v1/me/bank-account', {
      headers: session,
      body: { accountNumber: existing.id },
    });
    expect(linked.body).toEqual({ bankAccount: { linked: true, accountNumber: existing.id } });
    const unknown = await stack.api('PUT', '/v1/me/bank-account', {
      headers: session,
      body: { accountNumber: randomUUID() },
    });
    expect([unknown.status, unknown.body.error]).toEqual([422, 'unknown_bank_account']);
    expect((await stack.api('GET', '/v1/me', { headers: session })).body.bankAccount.accountNumber).toBe(existing.id);
  });

  it('refuses a taken email in any spelling, and out-of-bounds fields by name, writing nothing', async () => {
    const account = await signUp('taken');
    const before = await stack.db('users').count<{ n: string }[]>('* as n');
    const cases: [unknown, number, string, RegExp][] = [
      [{ email: account.email.toUpperCase(), password: 'another long one', name: 'X' }, 409, 'email_taken', /exists/],
      [{ email: 'not-an-email', password: 'a fine long password', name: 'X' }, 400, 'validation_failed', /email/],
      [{ email: email('short'), password: 'short', name: 'X' }, 400, 'validation_failed', /password/],
      [{ email: email('long'), password: 'p'.repeat(201), name: 'X' }, 400, 'validation_failed', /password/],
      [{ email: email('noname'), password: 'a fine long password', name: '   ' }, 400, 'validation_failed', /name/],
      [
        { email: email('extra'), password: 'a fine long password', name: 'X', role: 'operator' },
        400,
        'validation_failed',
        /role|additional/,
      ],
    ];
    for (const [body, status, error, field] of cases) {
      const res = await stack.api('POST', '/v1/accounts', { body, headers: csrf });
      expect([res.status, res.body.error], JSON.stringify(body)).toEqual([status, error]);
      expect(JSON.stringify(res.body)).toMatch(field);
    }
    expect(await stack.db('users').count<{ n: string }[]>('* as n')).toEqual(before);
  });
});

describe('password login', () => {
  it('logs in, and logging out ends the session on the server, not only in the browser', async () => {
    const account = await signUp('login');
    const login = await stack.api('POST', '/v1/session', {
      body: { email: account.email.toUpperCase(), password: account.password },
      headers: csrf,
    });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(account.user.id);
    const cookie = cookieOf(login)!;
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect((await stack.api('GET', '/v1/me', { headers: { cookie } })).status).toBe(200);

    expect((await stack.api('DELETE', '/v1/session', { headers: { cookie, ...csrf } })).status).toBe(204);
    // The same cookie, kept by someone who copied it, no longer works.
    expect((await stack.api('GET', '/v1/me', { headers: { cookie } })).status).toBe(401);
  });

  it('answers a wrong password and an unknown email alike (their times: npm run bench -- login)', async () => {
    const account = await signUp('timing');
    const attempt = (body: unknown) => stack.api('POST', '/v1/session', { body, headers: csrf });
    const wrong = await attempt({ email: account.email, password: 'not the password' });
    const unknown = await attempt({ email: email('nobody'), password: 'not the password' });
    expect(wrong.body).toEqual(unknown.body);
    expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_credentials']);
  });

  it('slows repeated failures for one email, then refuses them with 429 and Retry-After, even with the right password', async () => {
    const account = await signUp('guessed');
    const statuses: number[] = [];
    let refusal: { status: number; body: any; headers: Headers } | undefined;
    for (let i = 0; i < 7; i++) {
      const res = await stack.api('POST', '/v1/session', {
        body: { email: account.email, password: `guess number ${i}` },
        headers: csrf,
      });
      statuses.push(res.status);
      if (res.status === 429) refusal ??= res;
    }
    // LOGIN_FAILURES_PER_EMAIL is 5 here: five 401s, then refusals.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(refusal!.body.error).toBe('too_many_attempts');
    expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThan(0);
    const right = await stack.api('POST', '/v1/session', {
      body: { email: account.email, password: account.password },
      headers: csrf,
    });
    expect(right.status).toBe(429);
    // Another email from the same address is not locked out by it.
    const other = await signUp('bystander');
    expect(
      (
        await stack.api('POST', '/v1/session', {
          body: { email: other.email, password: other.password },
          headers: csrf,
        })
      ).status,
    ).toBe(200);
  });
});

describe('API tokens', () => {
  it('are shown once, listed by name and last use, and refused on the very next use after revocation', async () => {
    const account = await signUp('scripter');
    const session = { cookie: account.cookie, ...csrf };
    const created = await stack.api('POST', '/v1/me/tokens', { headers: session, body: { name: 'nightly export' } });
    expect(created.status).toBe(201);
    const { id, token } = created.body;
    expect(token).toMatch(/^customer_/);
    expect((await stack.api('GET', '/v1/me', { token })).body.user.id).toBe(account.user.id);

    const listed = await stack.api('GET', '/v1/me/tokens', { headers: session });
    expect(listed.body.tokens).toEqual([
      { id, name: 'nightly export', createdAt: created.body.createdAt, lastUsedAt: expect.any(String) },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    expect((await stack.api('DELETE', `/v1/me/tokens/${id}`, { headers: session })).status).toBe(204);
    const refused = await stack.api('GET', '/v1/me', { token });
    expect([refused.status, refused.body.error]).toEqual([401, 'unauthorized']);
    // Someone else's token id is as unknown as a made-up one.
    const other = await signUp('other-scripter');
    const theirs = await stack.api('POST', '/v1/me/tokens', { token: owner.token, body: { name: 'owner script' } });
    expect(
      (await stack.api('DELETE', `/v1/me/tokens/${theirs.body.id}`, { headers: { cookie: other.cookie, ...csrf } }))
        .status,
    ).toBe(404);
    expect((await stack.api('GET', '/v1/me', { token: theirs.body.token })).status).toBe(200);
  });

  it('are at most 50 a user, however many requests arrive at once', async () => {
    const user = await createUser(stack.db, 'customer');
    // One token came with the user; a burst asks for 60 more at the same moment.
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        stack.api('POST', '/v1/me/tokens', { token: user.token, body: { name: `burst ${i}` } }),
      ),
    );
    expect(burst.filter((r) => r.status === 201)).toHaveLength(49);
    const refused = burst.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error])).toEqual(Array(11).fill([409, 'too_many_tokens']));
    const held = await stack
      .db('credentials')
      .where({ user_id: user.id, kind: 'api' })
      .count<{ n: string }[]>('* as n');
    expect(Number(held[0]!.n)).toBe(50);
  });

  it('refuses a name over 100 characters or of spaces only', async () => {
    for (const name of ['n'.repeat(101), '   ', '']) {
      const res = await stack.api('POST', '/v1/me/tokens', { token: owner.token, body: { name } });
      expect([res.status, res.body.error]).toEqual([400, 'validation_failed']);
      expect(res.body.message).toMatch(/name/);
    }
  });
});

describe('staff by invitation', () => {
  const invite = async (body: unknown, token = owner.token) =>
    stack.api('POST', `/v1/locations/${locationId}/staff`, { token, body });
  const linkToken = (url: string) => new URL(url).hash.slice(1);

  it('brings a driver in by a single-use link, who then delivers, until removed', async () => {
    const driverEmail = email('driver');
    const invited = await invite({ email: driverEmail, role: 'driver' });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({ email: driverEmail, role: 'driver' });
    expect(Date.parse(invited.body.expiresAt) - Date.now()).toBeGreaterThan(6.9 * 24 * 3_600_000);
    const link = linkToken(invited.body.invitationUrl);

    const shown = await stack.api('GET', `/v1/invitations/${link}`);
    expect(shown.body).toMatchObject({
      email: driverEmail,
      role: 'driver',
      location: { id: locationId, name: 'Account bakery' },
      existingUser: false,
    });
    const listed = await stack.api('GET', `/v1/locations/${locationId}/staff`, { token: owner.token });
    expect(listed.body.invitations.map((i: { id: string }) => i.id)).toContain(invited.body.id);

    const accepted = await stack.api('POST', `/v1/invitations/${link}/accept`, {
      body: { name: 'Dana Driver', password: 'the driver password' },
      headers: csrf,
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.user).toMatchObject({ role: 'driver', locationIds: [locationId], email: driverEmail });
    const driverSession = { cookie: cookieOf(accepted)!, ...csrf };
    const again = await stack.api('POST', `/v1/invitations/${link}/accept`, {
      body: { name: 'Eve', password: 'another password' },
      headers: csrf,
    });
    expect([again.status, again.body.error]).toEqual([409, 'invitation_used']);

    // The owner assigns the new driver, who picks up and delivers.
    const customer = await signUp('staffed');
    const customerSession = { cookie: customer.cookie, ...csrf };
    await stack.api('POST', '/v1/me/bank-account/test-account', { headers: customerSession, body: {} });
    const placed = await stack.api('POST', '/v1/orders', {
      headers: customerSession,
      body: { locationId, slotId, items: [{ productId, quantity: 1 }], address },
    });
    const orderId = placed.body.id as string;
    await eventually(
      () => stack.api('GET', `/v1/orders/${orderId}`, { headers: customerSession }),
      (r) => r.body.status === 'confirmed',
    );
    for (const status of ['prepping', 'prepped'])
      expect(
        (await stack.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status } })).status,
      ).toBe(200);
    await eventually(
      () => stack.db('deliveries').where({ order_id: orderId }).first('status'),
      (row) => row?.status === 'pending',
    );
    const dashboard = await stack.api('GET', '/v1/dashboard', { token: owner.token });
    expect(dashboard.body.drivers.map((d: { id: string }) => d.id)).toContain(accepted.body.user.id);
    const assigned = await stack.api('POST', `/v1/deliveries/${orderId}/assign`, {
      token: owner.token,
      body: { driverId: accepted.body.user.id },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    expect((await stack.api('POST', `/v1/deliveries/${orderId}/pickup`, { headers: driverSession })).status).toBe(200);

    // Removed, the driver's session stops working for this location on its very next request.
    const removed = await stack.api('DELETE', `/v1/locations/${locationId}/staff/${accepted.body.user.id}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    const complete = await stack.api('POST', `/v1/deliveries/${orderId}/complete`, { headers: driverSession });
    expect([complete.status, complete.body.error]).toEqual([403, 'forbidden']);
    const deliveries = await stack.api('GET', '/v1/deliveries', { headers: driverSession });
    expect(deliveries.body.deliveries).toEqual([]);
    const reassign = await stack.api('POST', `/v1/deliveries/${orderId}/assign`, {
      token: owner.token,
      body: { driverId: accepted.body.user.id },
    });
    expect([reassign.status, reassign.body.error]).toEqual([422, 'unknown_driver']);
  });

  it('joins an existing account with its own password, and refuses another role', async () => {
    const ownerEmail = email('second-owner');
    const other = await createLocation(stack.db, { name: 'Second shop' });
    const secondOwner = await createUser(stack.db, 'owner', {
      locationIds: [other],
      email: ownerEmail,
      password: 'second owner password',
    });
    const invited = await invite({ email: ownerEmail, role: 'owner' });
    const link = linkToken(invited.body.invitationUrl);
    expect((await stack.api('GET', `/v1/invitations/${link}`)).body.existingUser).toBe(true);
    const wrong = await stack.api('POST', `/v1/invitations/${link}/accept`, {
      body: { password: 'not their password' },
      headers: csrf,
    });
    expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_credentials']);
    const joined = await stack.api('POST', `/v1/invitations/${link}/accept`, {
      body: { password: 'second owner password' },
      headers: csrf,
    });
    expect(joined.status).toBe(200);
    expect(joined.body.user.id).toBe(secondOwner.id);
    expect([...joined.body.user.locationIds].sort()).toEqual([locationId, other].sort());

    const customer = await signUp('not-a-driver');
    const conflict = await invite({ email: customer.email, role: 'driver' });
    expect([conflict.status, conflict.body.error]).toEqual([409, 'role_conflict']);
  });

  it('refuses unknown, expired, withdrawn and spent links, and keeps a location’s last owner', async () => {
    expect((await stack.api('GET', `/v1/invitations/invite_${randomUUID()}`)).status).toBe(404);

    const lateEmail = email('late');
    const expiring = await invite({ email: lateEmail, role: 'driver' });
    await stack
      .db('staff_invitations')
      .where({ id: expiring.body.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const expired = await stack.api('POST', `/v1/invitations/${linkToken(expiring.body.invitationUrl)}/accept`, {
      body: { name: 'Late', password: 'a late password' },
      headers: csrf,
    });
    expect([expired.status, expired.body.error]).toEqual([410, 'invitation_expired']);
    expect(await stack.db('users').where({ email: lateEmail }).first('id')).toBeUndefined();

    const withdrawn = await invite({ email: email('withdrawn'), role: 'driver' });
    expect(
      (
        await stack.api('DELETE', `/v1/locations/${locationId}/invitations/${withdrawn.body.id}`, {
          token: owner.token,
        })
      ).status,
    ).toBe(204);
    expect((await stack.api('GET', `/v1/invitations/${linkToken(withdrawn.body.invitationUrl)}`)).status).toBe(404);

    const lone = await createLocation(stack.db, { name: 'One-owner shop' });
    const loneOwner = await createUser(stack.db, 'owner', { locationIds: [lone] });
    const last = await stack.api('DELETE', `/v1/locations/${lone}/staff/${loneOwner.id}`, { token: loneOwner.token });
    expect([last.status, last.body.error]).toEqual([409, 'last_owner']);
    // Another owner's location answers as if it did not exist.
    expect((await invite({ email: email('x'), role: 'driver' }, loneOwner.token)).status).toBe(404);
  });
});

describe('secrets', () => {
  it('never reach a response or a log line: no password, no hash, no token', async () => {
    const password = `secret-${randomUUID()}`;
    const account = await signUp('secretive', password);
    const created = await stack.api('POST', '/v1/me/tokens', {
      headers: { cookie: account.cookie, ...csrf },
      body: { name: 'x' },
    });
    await stack.api('POST', '/v1/session', { body: { email: account.email, password: `${password}!` }, headers: csrf });
    const row = await stack.db('users').where({ id: account.user.id }).first('password_hash');
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    // A second app over the same database, logging everything to memory.
    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const app = await buildApp({
      config: stack.config,
      db: stack.db,
      temporal: stack.client,
      bank: stack.bank,
      logger: { level: 'trace', stream: sink },
    });
    const injected = [
      await app.inject({
        method: 'POST',
        url: '/v1/session',
        headers: csrf,
        payload: { email: account.email, password },
      }),
      await app.inject({
        method: 'POST',
        url: '/v1/accounts',
        headers: csrf,
        payload: { email: account.email, password, name: 'Again' },
      }),
      await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${created.body.token}` } }),
    ];
    await app.close();
    expect(injected.map((r) => r.statusCode)).toEqual([200, 409, 200]);
    const seen = [...logLines, ...injected.map((r) => r.body)].join('\n');
    expect(logLines.length).toBeGreaterThan(3);
    for (const secret of [password, row.password_hash, created.body.token]) expect(seen).not.toContain(secret);
  });
});

describe('operators', () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/user-cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: stack.config.databaseUrl },
    });

  it('are created by the command line, never over HTTP, and log in with the password it prints once', async () => {
    const operatorEmail = email('operator');
    const { stdout } = await cli('create-operator', operatorEmail, '--name', 'Ops Person');
    const password = /Password\s+(\S+)/.exec(stdout)![1]!;
    const token = /API token\s+(\S+)/.exec(stdout)![1]!;
    expect((await stack.api('GET', '/v1/me', { token })).body.user).toMatchObject({
      role: 'operator',
      email: operatorEmail,
      name: 'Ops Person',
    });
    const login = await stack.api('POST', '/v1/session', { body: { email: operatorEmail, password }, headers: csrf });
    expect(login.body.user.role).toBe('operator');

    const again = await cli('create-operator', operatorEmail).catch((err: { code: number; stderr: string }) => err);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('already exists') });
    const bad = await cli('create-operator', 'not-an-email').catch((err: { code: number }) => err);
    expect(bad).toMatchObject({ code: 2 });
    // No route creates one: sign-up makes customers whatever it is sent.
    const signUp = await stack.api('POST', '/v1/accounts', {
      body: { email: email('wannabe'), password: 'a fine long password', name: 'W', role: 'operator' },
      headers: csrf,
    });
    expect(signUp.status).toBe(400);
  });
});
