// The catalog: the one writer of products, and the product reads the order path and the owners' routes need.
import type { Knex } from 'knex';
import { likePattern } from './availability.js';

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

/** What an owner may change about a product; each field left out stays as it is. */
export type ProductChange = Partial<Omit<ProductView, 'id' | 'createdAt'>>;

/** Where a page of the catalogue ends: the last product's name in lower case, and its id. */
export interface ProductKey {
  sortKey: string;
  productId: string;
}

export function createCatalogRepository(db: Knex) {
  return {
    async findProduct(productId: string): Promise<ProductView | undefined> {
      const row = await db('products').where({ id: productId }).first<ProductRow | undefined>();
      return row && productView(row);
    },

    /** One page of the catalogue in name order; every word must appear in the name, ignoring case. */
    async listProducts(opts: {
      words: string[];
      after: ProductKey | undefined;
      limit: number;
    }): Promise<{ items: ProductView[]; next: ProductKey | undefined }> {
      const query = db('products')
        .select<(ProductRow & { sort_key: string })[]>('*', db.raw('lower(name) AS sort_key'))
        .orderByRaw('lower(name), id')
        // One more than the page: whether it exists says whether there is a next page.
        .limit(opts.limit + 1);
      for (const word of opts.words) query.whereRaw('lower(name) LIKE lower(?)', [likePattern(word)]);
      if (opts.after) query.whereRaw('(lower(name), id) > (?, ?::uuid)', [opts.after.sortKey, opts.after.productId]);
      const rows = await query;
      const page = rows.slice(0, opts.limit);
      const last = page.at(-1);
      return {
        items: page.map(productView),
        next: rows.length > opts.limit && last ? { sortKey: last.sort_key, productId: last.id } : undefined,
      };
    },

    /** Changes the product's fields given; undefined when there is no such product. Orders keep the prices they were placed at. */
    async updateProduct(productId: string, change: ProductChange): Promise<ProductView | undefined> {
      const [row] = await db('products')
        .where({ id: productId })
        .update({
          ...(change.name === undefined ? {} : { name: change.name }),
          ...(change.description === undefined ? {} : { description: change.description }),
          ...(change.priceCents === undefined ? {} : { price_cents: change.priceCents }),
          ...(change.shelfLifeMinutes === undefined ? {} : { shelf_life_minutes: change.shelfLifeMinutes }),
          ...(change.eodDiscountPercent === undefined ? {} : { eod_discount_percent: change.eodDiscountPercent }),
        })
        .returning<ProductRow[]>('*');
      return row && productView(row);
    },

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
