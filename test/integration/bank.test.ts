// The bank on real Postgres: holds, asynchronous decisions, idempotency, void and refund, restarts, and signed webhooks retried until acknowledged.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankRequestError } from '../../src/bank/client.js';
import { createLedger } from '../../src/bank/ledger.js';
import { verifyWebhookSignature } from '../../src/bank/signature.js';
import { DEV_BANK_API_KEY } from '../../src/config.js';
import type { WebhookEvent } from '../../src/bank/types.js';
import { startTestBank, type TestBank } from '../support/bank.js';

const SECRET = 'bank-test-secret';
const key = { authorization: `Bearer ${DEV_BANK_API_KEY}` };

interface Receiver {
  url: string;
  /** Every delivery attempt, in arrival order. */
  attempts: { event: WebhookEvent; signature: string | undefined; raw: string; answeredWith: number }[];
  /** Answers the next `count` deliveries with 500. */
  /** Refuses the next `count` deliveries, only of events about `reference` when given. */
  failNext(count: number, reference?: string): void;
  eventsFor(chargeId: string): WebhookEvent[];
  close(): Promise<void>;
}

/** A stand-in for the API's webhook endpoint that records what the bank sends. */
async function startReceiver(): Promise<Receiver> {
  const attempts: Receiver['attempts'] = [];
  let failures = 0;
  let failReference: string | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(raw) as WebhookEvent;
      const refuse = failures > 0 && (failReference === undefined || event.data.reference === failReference);
      const answeredWith = refuse ? 500 : 204;
      if (refuse) failures--;
      attempts.push({ event, signature: req.headers['bank-signature'] as string | undefined, raw, answeredWith });
      res.statusCode = answeredWith;
      res.end();
    });
  });
  return {
    url: await webhookUrlOf(server),
    attempts,
    failNext(count, reference) {
      failures = count;
      failReference = reference;
    },
    eventsFor(chargeId) {
      // Acknowledged deliveries only: a refused attempt is not a delivered event.
      return attempts.filter((a) => a.answeredWith < 300 && a.event.data.chargeId === chargeId).map((a) => a.event);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function eventually<T>(fn: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let receiver: Receiver;
let bank: TestBank;

beforeAll(async () => {
  receiver = await startReceiver();
  bank = await startTestBank({ webhookUrl: receiver.url, webhookSecret: SECRET });
});

afterAll(async () => {
  await bank?.stop();
  await receiver?.close();
});

async function account(
  balanceCents: number,
  fields: { behavior?: 'normal' | 'decline' | 'silent'; decisionDelayMs?: number } = {},
) {
  return bank.client.createAccount({ holderName: 'Test holder', balanceCents, ...fields });
}

function charge(accountId: string, amountCents: number, key = randomUUID()) {
  return bank.client.requestCharge({ idempotencyKey: key, accountId, amountCents, reference: randomUUID() });
}

async function settled(chargeId: string, via = bank) {
  return eventually(
    () => via.client.getCharge(chargeId),
    (c) => c.status !== 'pending',
  );
}

describe('a charge', () => {
  it('holds the amount at once, then is approved and captured after the account delay, and says so in a signed webhook', async () => {
    const acct = await account(10_000, { decisionDelayMs: 300 });
    const reference = randomUUID();
    const accepted = await bank.client.requestCharge({
      idempotencyKey: randomUUID(),
      accountId: acct.id,
      amountCents: 2_500,
      reference,
    });
    expect(accepted.status).toBe('pending');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({
      balanceCents: 10_000,
      heldCents: 2_500,
      availableCents: 7_500,
    });

    const done = await settled(accepted.chargeId);
    expect(done).toMatchObject({ status: 'approved', amountCents: 2_500, reference });
    expect(Date.parse(done.decidedAt!) - Date.parse(done.createdAt)).toBeGreaterThanOrEqual(250);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({
      balanceCents: 7_500,
      heldCents: 0,
      availableCents: 7_500,
    });

    const [event] = await eventually(
      () => receiver.eventsFor(accepted.chargeId),
      (e) => e.length > 0,
    );
    expect(event).toMatchObject({
      type: 'charge.approved',
      data: { chargeId: accepted.chargeId, reference, amountCents: 2_500, status: 'approved' },
    });
    const attempt = receiver.attempts.find((a) => a.event.id === event!.id)!;
    expect(verifyWebhookSignature(attempt.signature, attempt.raw, [SECRET], Math.floor(Date.now() / 1000))).toEqual({
      ok: true,
    });
    expect(
      verifyWebhookSignature(attempt.signature, attempt.raw, ['another-secret'], Math.floor(Date.now() / 1000)).ok,
    ).toBe(false);
  });

  it('is refused for insufficient funds when the balance does not cover it, and takes nothing', async () => {
    const acct = await account(500);
    const { chargeId } = await charge(acct.id, 1_200);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ heldCents: 0 });
    expect((await settled(chargeId)).status).toBe('insufficient_funds');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 500, heldCents: 0 });
    const events = await eventually(
      () => receiver.eventsFor(chargeId),
      (e) => e.length > 0,
    );
    expect(events.map((e) => e.type)).toEqual(['charge.insufficient_funds']);
  });

  it('is declined on an account set to decline, and its hold is released', async () => {
    const acct = await account(10_000, { behavior: 'decline', decisionDelayMs: 100 });
    const { chargeId } = await charge(acct.id, 1_000);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ heldCents: 1_000 });
    expect((await settled(chargeId)).status).toBe('declined');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 10_000, heldCents: 0 });
    const events = await eventually(
      () => receiver.eventsFor(chargeId),
      (e) => e.length > 0,
    );
    expect(events.map((e) => e.type)).toEqual(['charge.declined']);
  });

  it('is never answered on a silent account', async () => {
    const acct = await account(10_000, { behavior: 'silent' });
    const { chargeId } = await charge(acct.id, 1_000);
    await sleep(1_000);
    expect((await bank.client.getCharge(chargeId)).status).toBe('pending');
    expect(receiver.eventsFor(chargeId)).toEqual([]);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ heldCents: 1_000 });
  });
});

describe('idempotency', () => {
  it('answers the same key and request with the same charge, and refuses the key for another request', async () => {
    const acct = await account(10_000);
    const key = randomUUID();
    const request = { idempotencyKey: key, accountId: acct.id, amountCents: 700, reference: randomUUID() };
    const first = await bank.client.requestCharge(request);
    const again = await bank.client.requestCharge(request);
    expect(again.chargeId).toBe(first.chargeId);
    await settled(first.chargeId);
    // A retry after the decision gets the decided charge, not a second one.
    expect(await bank.client.requestCharge(request)).toEqual({ chargeId: first.chargeId, status: 'approved' });

    const reused = await bank.client.requestCharge({ ...request, amountCents: 701 }).catch((err: unknown) => err);
    expect(reused).toBeInstanceOf(BankRequestError);
    expect(reused).toMatchObject({ status: 422, code: 'idempotency_key_reused', nonRetryable: true });
    expect(await bank.db('charges').where({ idempotency_key: key }).count<{ count: number }[]>('* as count')).toEqual([
      { count: 1 },
    ]);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 9_300, heldCents: 0 });

    // A merchant that lost the answer finds the charge by its key; an unused key finds nothing.
    expect(await bank.client.findCharge(key)).toMatchObject({
      id: first.chargeId,
      status: 'approved',
      amountCents: 700,
    });
    expect(await bank.client.findCharge(randomUUID())).toBeUndefined();
  });

  it('creates one charge when the same request arrives many times at once', async () => {
    const acct = await account(10_000, { decisionDelayMs: 200 });
    const request = { idempotencyKey: randomUUID(), accountId: acct.id, amountCents: 1_000, reference: randomUUID() };
    const answers = await Promise.all(Array.from({ length: 8 }, () => bank.client.requestCharge(request)));
    expect(new Set(answers.map((a) => a.chargeId)).size).toBe(1);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ heldCents: 1_000 });
    await settled(answers[0]!.chargeId);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 9_000, heldCents: 0 });
  });
});

describe('void and refund', () => {
  it('voids a pending charge: the hold is released and no decision follows', async () => {
    const acct = await account(10_000, { decisionDelayMs: 400 });
    const { chargeId } = await charge(acct.id, 3_000);
    const voided = await bank.client.voidCharge(chargeId);
    expect(voided.status).toBe('voided');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 10_000, heldCents: 0 });
    expect((await bank.client.voidCharge(chargeId)).status).toBe('voided');
    await sleep(800);
    expect((await bank.client.getCharge(chargeId)).status).toBe('voided');
    const events = await eventually(
      () => receiver.eventsFor(chargeId),
      (e) => e.length > 0,
    );
    expect(events.map((e) => e.type)).toEqual(['charge.voided']);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 10_000, heldCents: 0 });
  });

  it('refunds an approved charge once, however often it is asked', async () => {
    const acct = await account(10_000);
    const { chargeId } = await charge(acct.id, 4_000);
    expect((await settled(chargeId)).status).toBe('approved');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 6_000 });
    expect((await bank.client.refundCharge(chargeId)).status).toBe('refunded');
    expect((await bank.client.refundCharge(chargeId)).status).toBe('refunded');
    expect((await bank.client.voidCharge(chargeId)).status).toBe('refunded');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 10_000, heldCents: 0 });
    const events = await eventually(
      () => receiver.eventsFor(chargeId),
      (e) => e.length >= 2,
    );
    expect(events.map((e) => e.type)).toEqual(['charge.approved', 'charge.refunded']);
  });

  it('turns a void of an approved charge into a refund', async () => {
    const acct = await account(10_000);
    const { chargeId } = await charge(acct.id, 2_000);
    await settled(chargeId);
    expect((await bank.client.voidCharge(chargeId)).status).toBe('refunded');
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 10_000 });
  });

  it('refuses to refund a charge that took no money, and changes nothing', async () => {
    const pendingAcct = await account(10_000, { behavior: 'silent' });
    const pending = await charge(pendingAcct.id, 1_000);
    await expect(bank.client.refundCharge(pending.chargeId)).rejects.toMatchObject({
      status: 409,
      code: 'charge_pending',
    });
    const poorAcct = await account(100);
    const refused = await charge(poorAcct.id, 1_000);
    await settled(refused.chargeId);
    await expect(bank.client.refundCharge(refused.chargeId)).rejects.toMatchObject({
      status: 409,
      code: 'charge_not_captured',
    });
    // Voiding what the bank already refused is a harmless no-op, so compensation can always call it.
    expect((await bank.client.voidCharge(refused.chargeId)).status).toBe('insufficient_funds');
    expect(await bank.client.getAccount(poorAcct.id)).toMatchObject({ balanceCents: 100, heldCents: 0 });
    expect(await bank.client.getAccount(pendingAcct.id)).toMatchObject({ balanceCents: 10_000, heldCents: 1_000 });
  });
});

describe('concurrency', () => {
  it('never lets concurrent charges spend more than the balance', async () => {
    // The decision waits, so every hold is in place before any charge is decided, however slow the machine.
    const acct = await account(1_000, { decisionDelayMs: 3_000 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => charge(acct.id, 300)));
    const after = await bank.client.getAccount(acct.id);
    expect(after.heldCents).toBe(900);
    const decided = await Promise.all(answers.map((a) => settled(a.chargeId)));
    const approved = decided.filter((c) => c.status === 'approved');
    expect(approved).toHaveLength(3);
    expect(decided.filter((c) => c.status === 'insufficient_funds')).toHaveLength(9);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 100, heldCents: 0 });
  });
});

describe('bad input', () => {
  it('answers 4xx with { error, message } and changes nothing', async () => {
    const acct = await account(1_000);
    const before = await bank.db('charges').count<{ count: number }[]>('* as count');
    const post = (path: string, body: unknown) =>
      fetch(`${bank.url}${path}`, {
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const good = { idempotencyKey: randomUUID(), accountId: acct.id, amountCents: 100, reference: 'r' };
    const cases: [string, unknown, number, string][] = [
      ['/charges', { ...good, amountCents: 0 }, 400, 'validation_failed'],
      ['/charges', { ...good, amountCents: -5 }, 400, 'validation_failed'],
      ['/charges', { ...good, amountCents: 10.5 }, 400, 'validation_failed'],
      ['/charges', { ...good, amountCents: '100' }, 400, 'validation_failed'],
      ['/charges', { ...good, accountId: 'nope' }, 400, 'validation_failed'],
      ['/charges', { ...good, idempotencyKey: '' }, 400, 'validation_failed'],
      ['/charges', { ...good, reference: 'x'.repeat(201) }, 400, 'validation_failed'],
      ['/charges', { ...good, extra: true }, 400, 'validation_failed'],
      ['/charges', { ...good, accountId: randomUUID() }, 404, 'not_found'],
      ['/charges', '{"idempotencyKey":', 400, 'invalid_json'],
      ['/accounts', { holderName: 'x', balanceCents: -1 }, 400, 'validation_failed'],
      ['/accounts', { holderName: 'x', balanceCents: 1, behavior: 'generous' }, 400, 'validation_failed'],
      ['/accounts', { holderName: '', balanceCents: 1 }, 400, 'validation_failed'],
      ['/accounts', { holderName: 'a\u0000b', balanceCents: 1 }, 400, 'validation_failed'],
      [`/charges/${randomUUID()}/void`, undefined, 404, 'not_found'],
      [`/charges/${randomUUID()}/refund`, undefined, 404, 'not_found'],
      ['/charges/not-a-uuid/void', undefined, 400, 'validation_failed'],
    ];
    for (const [path, body, status, error] of cases) {
      const res =
        body === undefined
          ? await fetch(`${bank.url}${path}`, { method: 'POST', headers: key })
          : await post(path, body);
      const answer = (await res.json()) as { error: string; message: string };
      expect({ path, body, status: res.status, error: answer.error }).toEqual({ path, body, status, error });
      expect(typeof answer.message).toBe('string');
    }
    expect((await fetch(`${bank.url}/charges/${randomUUID()}`, { headers: key })).status).toBe(404);
    expect((await fetch(`${bank.url}/charges`, { headers: key })).status).toBe(400);
    expect((await fetch(`${bank.url}/charges?idempotencyKey=${'k'.repeat(201)}`, { headers: key })).status).toBe(400);
    expect((await fetch(`${bank.url}/accounts/${randomUUID()}`, { headers: key })).status).toBe(404);
    expect(await bank.db('charges').count<{ count: number }[]>('* as count')).toEqual(before);
    expect(await bank.client.getAccount(acct.id)).toMatchObject({ balanceCents: 1_000, heldCents: 0 });
  });
});

describe('webhook delivery', () => {
  it('retries with backoff until the receiver answers 2xx, signing each attempt afresh', async () => {
    const acct = await account(10_000);
    // Only this charge's events are refused, so deliveries left over from other tests cannot use up the failures.
    const reference = randomUUID();
    receiver.failNext(3, reference);
    const { chargeId } = await bank.client.requestCharge({
      idempotencyKey: randomUUID(),
      accountId: acct.id,
      amountCents: 100,
      reference,
    });
    const events = await eventually(
      () => receiver.eventsFor(chargeId),
      (e) => e.length > 0,
    );
    expect(events.map((e) => e.type)).toEqual(['charge.approved']);
    const tries = receiver.attempts.filter((a) => a.event.data.chargeId === chargeId);
    expect(tries.map((a) => a.answeredWith)).toEqual([500, 500, 500, 204]);
    expect(new Set(tries.map((a) => a.event.id)).size).toBe(1);
    for (const a of tries)
      expect(verifyWebhookSignature(a.signature, a.raw, [SECRET], Math.floor(Date.now() / 1000))).toEqual({ ok: true });
    // The receiver answers before the bank records the delivery.
    const row = await eventually(
      () => bank.db('webhook_outbox').where({ charge_id: chargeId }).first(),
      (r) => r?.delivered_at != null,
    );
    expect(row).toMatchObject({ attempts: 4, last_error: null });
    expect(row.delivered_at).toBeInstanceOf(Date);
  });
});

/** `count` charges of 1.00 on `via`'s account `accountId`, each with a reference of its own; their ids. */
async function chargesOn(via: TestBank, accountId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { chargeId } = await via.client.requestCharge({
      idempotencyKey: randomUUID(),
      accountId,
      amountCents: 100,
      reference: randomUUID(),
    });
    ids.push(chargeId);
  }
  return ids;
}

/** Starts `server` on a free loopback port; the webhook URL it answers at. */
async function webhookUrlOf(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/webhooks/bank`;
}

describe('several webhook URLs', () => {
  it('takes turns across them and, within one attempt, passes over one that cannot be reached', async () => {
    const [first, second] = [await startReceiver(), await startReceiver()];
    // A port nothing listens on: a replica that is down.
    const closed = http.createServer();
    const down = await webhookUrlOf(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const spread = await startTestBank({ webhookUrl: `${down}, ${first.url},${second.url}`, webhookSecret: SECRET });
    try {
      const acct = await spread.client.createAccount({ holderName: 'Spread', balanceCents: 10_000 });
      const ids = await chargesOn(spread, acct.id, 6);
      const delivered = await eventually(
        () => spread.db('webhook_outbox').whereIn('charge_id', ids).whereNotNull('delivered_at'),
        (rows) => rows.length === ids.length,
      );
      expect(delivered).toHaveLength(ids.length);
      // Each on its first attempt, though a third of them were first sent to the replica that is down.
      expect(delivered.map((row: { attempts: number }) => row.attempts)).toEqual(ids.map(() => 1));
      const to = (receiver: Receiver) => ids.filter((id) => receiver.eventsFor(id).length > 0).length;
      expect(to(first) + to(second)).toBe(ids.length);
      expect(to(first)).toBeGreaterThan(0);
      expect(to(second)).toBeGreaterThan(0);
    } finally {
      await spread.stop();
      await first.close();
      await second.close();
    }
  });

  it('counts a refusal (4xx) as the attempt, without asking the next URL', async () => {
    // A receiver that refuses every signature, as an API given the wrong secret does.
    let refused = 0;
    const refusing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        refused++;
        res.writeHead(401).end();
      });
    });
    const refusingUrl = await webhookUrlOf(refusing);
    const other = await startReceiver();
    const spread = await startTestBank({ webhookUrl: `${refusingUrl},${other.url}`, webhookSecret: SECRET });
    try {
      const acct = await spread.client.createAccount({ holderName: 'Refused', balanceCents: 10_000 });
      const ids = await chargesOn(spread, acct.id, 2);
      // Turns alternate: one charge's first attempt goes to the refusing URL, and stays refused there.
      const rows = await eventually(
        () => spread.db('webhook_outbox').whereIn('charge_id', ids),
        (found) => found.some((r: { last_error: string | null }) => r.last_error !== null),
      );
      const failed = rows.find((r: { last_error: string | null }) => r.last_error !== null);
      expect(failed.last_error).toBe(`HTTP 401 from ${refusingUrl}`);
      expect(failed.delivered_at).toBeNull();
      expect(other.eventsFor(failed.charge_id)).toEqual([]);
      expect(refused).toBeGreaterThan(0);
    } finally {
      await spread.stop();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
      await other.close();
    }
  });
});

describe('an idle bank', () => {
  it('knows nothing is due, sleeps until a charge falls due, and leaves the database alone meanwhile', async () => {
    const idle = await startTestBank({ webhookUrl: receiver.url, webhookSecret: SECRET, pollIntervalMs: 60_000 });
    try {
      const ledger = createLedger(idle.db);
      expect(await ledger.nextDueInMs()).toBeNull();
      const commits = async () =>
        Number(
          (
            await idle.db.raw<{ rows: { n: string }[] }>(
              'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()',
            )
          ).rows[0]!.n,
        );
      // The statistics are flushed in the background; a second apart is enough for them to show a busy loop.
      await sleep(1_500);
      const before = await commits();
      await sleep(2_000);
      // Our own two reads of the statistics, and nothing else: a bank polling flat out commits hundreds a second.
      expect((await commits()) - before).toBeLessThan(20);

      const later = await idle.client.createAccount({
        holderName: 'Later',
        balanceCents: 5_000,
        decisionDelayMs: 60_000,
      });
      await idle.client.requestCharge({
        idempotencyKey: randomUUID(),
        accountId: later.id,
        amountCents: 100,
        reference: randomUUID(),
      });
      const due = await ledger.nextDueInMs();
      expect(due).toBeGreaterThan(50_000);
      expect(due).toBeLessThanOrEqual(60_000);
    } finally {
      await idle.stop();
    }
  });
});

describe('restarts', () => {
  it('decides charges that fell due while the bank was down, and delivers what it could not deliver before', async () => {
    const localReceiver = await startReceiver();
    const first = await startTestBank({ webhookUrl: localReceiver.url, webhookSecret: SECRET });
    const acct = await first.client.createAccount({
      holderName: 'Restart',
      balanceCents: 5_000,
      decisionDelayMs: 1_500,
    });
    const dueWhileDown = await first.client.requestCharge({
      idempotencyKey: randomUUID(),
      accountId: acct.id,
      amountCents: 1_000,
      reference: randomUUID(),
    });
    // A second charge is decided before the stop, but the receiver refuses it, so its webhook waits in the outbox.
    const quick = await first.client.createAccount({ holderName: 'Quick', balanceCents: 5_000 });
    localReceiver.failNext(1_000);
    const undelivered = await first.client.requestCharge({
      idempotencyKey: randomUUID(),
      accountId: quick.id,
      amountCents: 2_000,
      reference: randomUUID(),
    });
    await settled(undelivered.chargeId, first);
    await eventually(
      () => localReceiver.attempts.length,
      (n) => n > 0,
    );
    expect((await first.client.getCharge(dueWhileDown.chargeId)).status).toBe('pending');
    await first.stop();

    await sleep(1_600);
    localReceiver.failNext(0);
    const second = await startTestBank({
      webhookUrl: localReceiver.url,
      webhookSecret: SECRET,
      databaseUrl: first.databaseUrl,
    });
    try {
      expect((await settled(dueWhileDown.chargeId, second)).status).toBe('approved');
      expect(await second.client.getAccount(acct.id)).toMatchObject({ balanceCents: 4_000, heldCents: 0 });
      const delivered = await eventually(
        () => [...localReceiver.eventsFor(dueWhileDown.chargeId), ...localReceiver.eventsFor(undelivered.chargeId)],
        (e) => e.length >= 2,
      );
      expect(delivered.map((e) => e.type).sort()).toEqual(['charge.approved', 'charge.approved']);
    } finally {
      await second.stop();
      await localReceiver.close();
    }
  });
});

describe('the merchant’s key', () => {
  it('is required for every request but the liveness check, compared whole', async () => {
    const acct = await account(1_000);
    const charge = JSON.stringify({
      idempotencyKey: randomUUID(),
      accountId: acct.id,
      amountCents: 100,
      reference: 'k',
    });
    const json = { 'content-type': 'application/json' };
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-key' },
      { authorization: `Bearer ${DEV_BANK_API_KEY}x` },
    ];
    for (const headers of attempts) {
      const refused = [
        await fetch(`${bank.url}/charges`, { method: 'POST', headers: { ...json, ...headers }, body: charge }),
        await fetch(`${bank.url}/accounts/${acct.id}`, { headers }),
        await fetch(`${bank.url}/accounts`, {
          method: 'POST',
          headers: { ...json, ...headers },
          body: JSON.stringify({ holderName: 'Mallory', balanceCents: 1 }),
        }),
      ];
      expect(refused.map((r) => r.status)).toEqual([401, 401, 401]);
    }
    expect((await fetch(`${bank.url}/healthz`)).status).toBe(200);
    const charged = await bank.db('charges').where({ account_id: acct.id }).count<{ count: string }[]>('* as count');
    expect(Number(charged[0]?.count)).toBe(0);
  });

  it('opens no test accounts on a bank that does not offer them', async () => {
    const production = await startTestBank({ webhookUrl: receiver.url, webhookSecret: SECRET, testAccounts: false });
    try {
      const res = await fetch(`${production.url}/accounts`, {
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json' },
        body: JSON.stringify({ holderName: 'Test', balanceCents: 1 }),
      });
      expect(res.status).toBe(404);
    } finally {
      await production.stop();
    }
  });
});
