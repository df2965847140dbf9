// Locations and products as the order path needs them.
import type { Knex } from 'knex';

export function createCatalogRepository(db: Knex) {
  return {
    async locationExists(locationId: string): Promise<boolean> {
      return (await db('locations').where({ id: locationId }).first('id')) !== undefined;
    },

    async pricesFor(productIds: string[]): Promise<Map<string, number>> {
      const rows = await db('products').whereIn('id', productIds).select<{ id: string; price_cents: number }[]>('id', 'price_cents');
      return new Map(rows.map((r) => [r.id, r.price_cents]));
    },
  };
}
