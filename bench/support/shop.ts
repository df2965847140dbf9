// A shop for the end-to-end benches: users with tokens, the API over HTTP, and one location stocked with a product,
// slots for the next hours and customers whose bank accounts approve at once.
import { provisionUser } from '../../src/auth/provisioning.js';
import { newToken } from '../../src/auth/tokens.js';
import { createRepositories } from '../../src/db/repositories/index.js';
import { ensureUpcomingSlots } from '../../src/db/seed.js';
import type { Role } from '../../src/domain/vocabulary.js';
import type { BenchStack } from './stack.js';

/** What a shop needs of a stack: its database, its bank and the API's address (in-process or the process topology). */
export type ShopStack = Pick<BenchStack, 'db' | 'bank' | 'baseUrl'>;

export async function benchUser(
  stack: ShopStack,
  role: Role,
  locationId?: string,
): Promise<{ id: string; token: string }> {
  return provisionUser(createRepositories(stack.db), {
    name: `Bench ${role}`,
    role,
    token: newToken(`bench_${role}`),
    locationIds: locationId ? [locationId] : [],
  });
}

/** One API request with the caller's token; an empty answer reads as `{}`. */
export async function benchRequest(
  stack: ShopStack,
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

export interface BenchShop {
  locationId: string;
  productId: string;
  owner: { id: string; token: string };
  driver: { id: string; token: string };
  /** The first of the slots opened for the next two hours. */
  slotId: string;
  customers: { id: string; token: string }[];
}

/** A bakery with `units` of one product, slots of `capacity` from an hour ahead, and `customers` funded customers. */
export async function openBenchShop(
  stack: ShopStack,
  opts: { name: string; units: number; capacity: number; customers: number },
): Promise<BenchShop> {
  const [location] = await stack
    .db('locations')
    .insert({ name: `${opts.name} bakery`, kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 8000 })
    .returning<{ id: string }[]>('id');
  const locationId = location!.id;
  const [product] = await stack
    .db('products')
    .insert({ name: `${opts.name} bun`, price_cents: 300, shelf_life_minutes: 1440 })
    .returning<{ id: string }[]>('id');
  const owner = await benchUser(stack, 'owner', locationId);
  const driver = await benchUser(stack, 'driver', locationId);
  const stocked = await benchRequest(stack, 'POST', `/v1/locations/${locationId}/stock`, owner.token, {
    productId: product!.id,
    quantity: opts.units,
  });
  if (stocked.status !== 201) throw new Error(`could not receive stock: ${JSON.stringify(stocked.body)}`);
  await ensureUpcomingSlots(stack.db, locationId, new Date(Date.now() + 3_600_000), {
    hours: 2,
    capacity: opts.capacity,
    cutoffMinutes: 15,
  });
  const slot = await stack
    .db('slots')
    .where({ location_id: locationId })
    .orderBy('starts_at')
    .first<{ id: string }>('id');
  const customers = await Promise.all(
    Array.from({ length: opts.customers }, async () => {
      const customer = await benchUser(stack, 'customer');
      const account = await stack.bank.createAccount({
        holderName: 'Bench',
        balanceCents: 10_000_000,
        decisionDelayMs: 0,
      });
      await stack.db('users').where({ id: customer.id }).update({ bank_account_id: account.id });
      return customer;
    }),
  );
  return { locationId, productId: product!.id, owner, driver, slotId: slot!.id, customers };
}
