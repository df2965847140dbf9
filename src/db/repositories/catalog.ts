// The catalog: the one writer of products, and the product reads the order path and the owners' routes need.
import type { Knex } from 'knex';
import type { ProductTag } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { likePattern } from './availability.js';
import { appendEvent } from './events.js';

export interface ProductView {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  shelfLifeMinutes: number;
  eodDiscountPercent: number;
  category: { id: string; name: string } | null;
  tags: ProductTag[];
  createdAt: string;
}

interface ProductRow {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  shelf_life_minutes: number;
  eod_discount_percent: number;
  category_id: string | null;
  category_name: string | null;
  tags: ProductTag[];
  created_at: Date;
}

const productView = (r: ProductRow): ProductView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  priceCents: r.price_cents,
  shelfLifeMinutes: r.shelf_life_minutes,
  eodDiscountPercent: r.eod_discount_percent,
  category: r.category_id === null ? null : { id: r.category_id, name: r.category_name! },
  tags: r.tags,
  createdAt: r.created_at.toISOString(),
});

/** What an owner may change about a product; each field left out stays as it is, a null category clears it. */
export type ProductChange = Partial<Omit<ProductView, 'id' | 'createdAt' | 'category'> & { categoryId: string | null }>;

/** A product's fields as they are written. */
export interface ProductInput {
  name: string;
  description: string;
  priceCents: number;
  shelfLifeMinutes: number;
  eodDiscountPercent: number;
  categoryId: string | null;
  tags: ProductTag[];
}

/** Whether a write failed because the category it names does not exist (or was deleted meanwhile). */
const isUnknownCategory = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === '23503' &&
  (err as { constraint?: string }).constraint === 'products_category_id_foreign';

/** Where a page of the catalogue ends: the last product's name in lower case, and its id. */
export interface ProductKey {
  sortKey: string;
  productId: string;
}

export function createCatalogRepository(db: Knex) {
  /** Products with their category's name. */
  const products = (q: Knex = db) =>
    q('products')
      .leftJoin('categories', 'categories.id', 'products.category_id')
      .select('products.*', 'categories.name AS category_name');

  const findProduct = async (productId: string, q: Knex = db): Promise<ProductView | undefined> => {
    const row = await products(q).where('products.id', productId).first<ProductRow | undefined>();
    return row && productView(row);
  };
  /** Tells every live view that follows the catalogue, in the transaction of the change. */
  const announce = (trx: Knex.Transaction, productId: string) =>
    appendEvent(trx, streams.catalog(), 'catalog.changed', { productId });

  return {
    findProduct: (productId: string) => findProduct(productId),

    /** One page of the catalogue in name order; every word must appear in the name, ignoring case. */
    async listProducts(opts: {
      words: string[];
      after: ProductKey | undefined;
      limit: number;
    }): Promise<{ items: ProductView[]; next: ProductKey | undefined }> {
      const query = products()
        .select<(ProductRow & { sort_key: string })[]>(db.raw('lower(products.name) AS sort_key'))
        .orderByRaw('lower(products.name), products.id')
        // One more than the page: whether it exists says whether there is a next page.
        .limit(opts.limit + 1);
      for (const word of opts.words) query.whereRaw('lower(products.name) LIKE lower(?)', [likePattern(word)]);
      if (opts.after)
        query.whereRaw('(lower(products.name), products.id) > (?, ?::uuid)', [
          opts.after.sortKey,
          opts.after.productId,
        ]);
      const rows = await query;
      const page = rows.slice(0, opts.limit);
      const last = page.at(-1);
      return {
        items: page.map(productView),
        next: rows.length > opts.limit && last ? { sortKey: last.sort_key, productId: last.id } : undefined,
      };
    },

    /**
     * Changes the product's fields given; undefined when there is no such product. Orders keep the prices they were
     * placed at.
     */
    async updateProduct(
      productId: string,
      change: ProductChange,
    ): Promise<ProductView | 'unknown_category' | undefined> {
      try {
        return await atomic(db, async (trx) => {
          const [row] = await trx('products')
            .where({ id: productId })
            .update({
              ...(change.name === undefined ? {} : { name: change.name }),
              ...(change.description === undefined ? {} : { description: change.description }),
              ...(change.priceCents === undefined ? {} : { price_cents: change.priceCents }),
              ...(change.shelfLifeMinutes === undefined ? {} : { shelf_life_minutes: change.shelfLifeMinutes }),
              ...(change.eodDiscountPercent === undefined ? {} : { eod_discount_percent: change.eodDiscountPercent }),
              ...(change.categoryId === undefined ? {} : { category_id: change.categoryId }),
              ...(change.tags === undefined ? {} : { tags: change.tags }),
            })
            .returning<{ id: string }[]>('id');
          if (!row) return undefined;
          await announce(trx, row.id);
          return findProduct(row.id, trx);
        });
      } catch (err) {
        if (isUnknownCategory(err)) return 'unknown_category';
        throw err;
      }
    },

    async createProduct(input: ProductInput): Promise<ProductView | 'unknown_category'> {
      try {
        return await atomic(db, async (trx) => {
          const [row] = await trx('products')
            .insert({
              name: input.name,
              description: input.description,
              price_cents: input.priceCents,
              shelf_life_minutes: input.shelfLifeMinutes,
              eod_discount_percent: input.eodDiscountPercent,
              category_id: input.categoryId,
              tags: input.tags,
            })
            .returning<{ id: string }[]>('id');
          await announce(trx, row!.id);
          return (await findProduct(row!.id, trx))!;
        });
      } catch (err) {
        if (isUnknownCategory(err)) return 'unknown_category';
        throw err;
      }
    },

    async productExists(productId: string): Promise<boolean> {
      return (await db('products').where({ id: productId }).first('id')) !== undefined;
    },

    /** The list price and name of each product that exists, by id. */
    async productsFor(productIds: string[]): Promise<Map<string, { priceCents: number; name: string }>> {
      const rows = await db('products')
        .whereIn('id', productIds)
        .select<{ id: string; price_cents: number; name: string }[]>('id', 'price_cents', 'name');
      return new Map(rows.map((r) => [r.id, { priceCents: r.price_cents, name: r.name }]));
    },
  };
}

export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
