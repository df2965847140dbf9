// What the customer's pages show about a shop, read once per page: its name and how long it keeps a ready collection
// order at the counter.
import { api, clock } from './lib.js';

export interface Shop {
  name: string;
  collectionWindowMinutes: number;
}

const shops = new Map<string, Promise<Shop>>();

export function shop(locationId: string): Promise<Shop> {
  let known = shops.get(locationId);
  if (!known) {
    known = Promise.all([
      api<{ name: string }>('GET', `/v1/locations/${locationId}`),
      api<{ collectionWindowMinutes: number }>('GET', `/v1/locations/${locationId}/collection`),
    ]).then(([location, policy]) => ({ name: location.name, collectionWindowMinutes: policy.collectionWindowMinutes }));
    // A failed read is tried again next time.
    known.catch(() => shops.delete(locationId));
    shops.set(locationId, known);
  }
  return known;
}

/** A ready collection order in words: where, and until when (`collectBy`, as the order says) it waits there. */
export const readyWords = (where: Shop, collectBy: string): string =>
  `Ready to collect at ${where.name} until ${clock(collectBy)}`;

/** The shop's policy, said before a customer orders for collection. */
export const collectionPolicy = (where: Shop): string =>
  `Collect it at ${where.name} within ${where.collectionWindowMinutes} minutes of it being ready (this page says when it is). An order not collected in time is not refunded.`;
