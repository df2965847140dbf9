// What operators read in the Temporal Web UI, on the real stack: an order's summary and details from its start, and
// its current details as it waits for the bank, is paid and prepared; its delivery's and its lot's too. None of it
// names the customer, the address or the bank account.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderNumber } from '../../src/domain/vocabulary.js';
import { bankChargeResultSignal, orderStateQuery } from '../../workflows/messages.js';
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
let owner: { id: string; token: string };
let customer: { id: string; token: string };
let locationId: string;
let productId: string;
let slotId: string;
let slotStartsAt: Date;
const customerName = `Octavia Brindlecombe ${randomUUID().slice(0, 8)}`;
const line1 = `${randomUUID().slice(0, 8)} Quiet Row`;
let accountId: string;

/** The current details the workflow set, as the Web UI reads them (the SDK's built-in metadata query). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

const detailsUntil = (handle: WorkflowHandle, ok: (details: string) => boolean) =>
  eventually(() => currentDetails(handle), ok);

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Summary bakery' });
  productId = await createProduct(stack.db, { name: 'Summary roll', price_cents: 275 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  customer = await createUser(stack.db, 'customer', { name: customerName });
  // The bank never answers this account on its own: the test answers for it, when it chooses.
  const account = await stack.bank.createAccount({
    holderName: customerName,
    balanceCents: 100_000,
    behavior: 'silent',
    decisionDelayMs: 0,
  });
  accountId = account.id;
  await stack.db('users').where({ id: customer.id }).update({ bank_account_id: accountId });
  expect(
    (
      await stack.api('POST', `/v1/locations/${locationId}/stock`, {
        token: owner.token,
        body: { productId, quantity: 10 },
      })
    ).status,
  ).toBe(201);
  slotId = await createSlot(stack.db, locationId);
  slotStartsAt = (await stack.db('slots').where({ id: slotId }).first('starts_at')).starts_at;
});

afterAll(async () => {
  await stack?.stop();
});

describe('an order in the Web UI', () => {
  it('shows its summary from the start, and where it is as it waits for the bank, is paid and prepared', async () => {
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      body: { locationId, slotId, items: [{ productId, quantity: 3 }], address: { lat: 51.5, lng: -0.1, line1 } },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const orderId = placed.body.id as string;
    const handle = stack.client.workflow.getHandle(`order-${orderId}`);

    const description = await handle.describe();
    const slotTime = slotStartsAt.toISOString().slice(11, 16);
    expect(await description.staticSummary()).toBe(
      `Order ${orderNumber(orderId)} · 3 items · £8.25 · Summary bakery · delivery ${slotTime} UTC`,
    );
    const details = await description.staticDetails();
    expect(details).toContain(`**Order** ${orderId}`);
    expect(details).toContain(`**Location** Summary bakery (${locationId})`);
    expect(details).toContain(`- 3 × Summary roll (product ${productId}) at £2.75`);

    // Waiting for the bank: since when, and for which charge.
    const { chargeId } = await handle.query(orderStateQuery);
    expect(chargeId).toEqual(expect.any(String));
    const waiting = await currentDetails(handle);
    expect(waiting).toMatch(new RegExp(`^waiting for the bank since \\d\\d:\\d\\d UTC \\(charge ${chargeId}\\)$`));

    // The bank's answer, as its webhook delivers it.
    await handle.signal(bankChargeResultSignal, { chargeId: chargeId!, outcome: 'approved' });
    const paid = await detailsUntil(handle, (d) => d.startsWith('paid'));
    expect(paid).toBe(`paid (charge ${chargeId}); waiting for the kitchen to start preparing`);

    const prepping = await stack.api('POST', `/v1/orders/${orderId}/prep`, {
      token: owner.token,
      body: { status: 'prepping' },
    });
    expect(prepping.status).toBe(200);
    expect(await currentDetails(handle)).toBe('preparing');
    const prepped = await stack.api('POST', `/v1/orders/${orderId}/prep`, {
      token: owner.token,
      body: { status: 'prepped' },
    });
    expect(prepped.status).toBe(200);
    expect(await detailsUntil(handle, (d) => d.includes('driver'))).toBe('prepped; waiting for a driver');

    // Its delivery, a child workflow, has a summary and details of its own.
    const delivery = stack.client.workflow.getHandle(`delivery-${orderId}`);
    expect(await (await delivery.describe()).staticSummary()).toBe(
      `Delivery of order ${orderNumber(orderId)} · 3 items`,
    );
    expect(await detailsUntil(delivery, (d) => d !== '')).toBe('waiting for the owner to assign a driver');

    // Nothing an operator reads there names the customer, the address or the account.
    const shown = [
      await description.staticSummary(),
      details,
      waiting,
      paid,
      await currentDetails(handle),
      await currentDetails(delivery),
    ].join('\n');
    for (const secret of [customerName, line1, accountId]) expect(shown).not.toContain(secret);
  });

  it("shows a lot's summary and what it waits for", async () => {
    const [lot] = await stack
      .db('stock_lots')
      .where({ location_id: locationId, product_id: productId })
      .select<{ id: number; expires_at: Date }[]>('id', 'expires_at');
    const handle = stack.client.workflow.getHandle(`lot-${lot!.id}`);
    const expires = lot!.expires_at.toISOString();
    expect(await (await handle.describe()).staticSummary()).toMatch(
      new RegExp(
        `^Lot ${lot!.id} · (no discount|discount from .+ UTC) · expires ${expires.slice(0, 10)} ${expires.slice(11, 16)} UTC$`,
      ),
    );
    expect(await detailsUntil(handle, (d) => d !== '')).toMatch(
      /^(fresh|discounted); unsold units are discarded at |^fresh; discounted from /,
    );
  });
});
