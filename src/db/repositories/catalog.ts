// The catalog: the one writer of products, and the product reads the order path and the owners' routes need.
import type { Knex } from 'knex';

export interface ProductView {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  shelfLifeMinutes: number;
  eodDiscountPercent: number;
  createdAt: string;
}

interface ProductRow {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  shelf_life_minutes: number;
  eod_discount_percent: number;
  created_at: Date;
}

const productView = (r: ProductRow): ProductView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  priceCents: r.price_cents,
  shelfLifeMinutes: r.shelf_life_minutes,
  eodDiscountPercent: r.eod_discount_percent,
  createdAt: r.created_at.toISOString(),
});

export function createCatalogRepository(db: Knex) {
  return {
    async createProduct(input: {
      name: string;
      description: string;
      priceCents: number;
      shelfLifeMinutes: number;
      eodDiscountPercent: number;
    }): Promise<ProductView> {
      const [row] = await db('products')
        .insert({
          name: input.name,
          description: input.description,
          price_cents: input.priceCents,
          shelf_life_minutes: input.shelfLifeMinutes,
          eod_discount_percent: input.eodDiscountPercent,
        })
        .returning<ProductRow[]>('*');
      return productView(row!);
    },

    async productExists(productId: string): Promise<boolean> {
      return (await db('products').where({ id: productId }).first('id')) !== undefined;
    },

    async pricesFor(productIds: string[]): Promise<Map<string, number>> {
      const rows = await db('products')
        .whereIn('id', productIds)
        .select<{ id: string; price_cents: number }[]>('id', 'price_cents');
      return new Map(rows.map((r) => [r.id, r.price_cents]));
    },
  };
}

export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
