// The catalogue as anyone reads it, page by page or one product, and the product changes operators and owners make.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ProductKey } from '../../db/repositories/catalog.js';
import { CursorParam, decodeCursor, encodeCursor, NextCursor } from '../cursor.js';
import { badRequest, notFound } from '../errors.js';
import { errorResponses, Uuid } from '../schemas.js';
import {
  CategoryId,
  MAX_PRICE_CENTS,
  MAX_SHELF_LIFE_MINUTES,
  Product,
  ProductName,
  ProductTags,
  unknownCategory,
} from './catalog.js';

const MAX_SEARCH_WORDS = 8;
export const DEFAULT_PRODUCT_PAGE = 20;
export const MAX_PRODUCT_PAGE = 100;

const IdParams = Type.Object({ id: Uuid });

const ProductChange = Type.Object(
  {
    name: Type.Optional(ProductName),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    priceCents: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS, description: 'Applies to orders placed from now on' }),
    ),
    shelfLifeMinutes: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SHELF_LIFE_MINUTES,
        description: 'Applies to lots received from now on',
      }),
    ),
    eodDiscountPercent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    categoryId: Type.Optional(CategoryId),
    tags: Type.Optional(ProductTags),
  },
  { additionalProperties: false, minProperties: 1 },
);

const productRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { catalog } = app.repos;

  app.get(
    '/v1/products',
    {
      schema: {
        tags: ['catalog'],
        summary: 'The catalogue in name order, optionally only products whose name has every word of q',
        querystring: Type.Object(
          {
            q: Type.Optional(
              Type.String({ maxLength: 100, description: 'Words that must all appear in the product name' }),
            ),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: MAX_PRODUCT_PAGE, default: DEFAULT_PRODUCT_PAGE }),
            ),
            cursor: Type.Optional(CursorParam),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ items: Type.Array(Product), nextCursor: NextCursor }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const { q, limit = DEFAULT_PRODUCT_PAGE, cursor } = request.query;
      let after: ProductKey | undefined;
      if (cursor !== undefined) {
        const [sortKey, productId] = decodeCursor(cursor, ['text', 'uuid'] as const);
        after = { sortKey, productId };
      }
      const words = (q ?? '').trim().split(/\s+/).filter(Boolean);
      if (words.length > MAX_SEARCH_WORDS)
        throw badRequest('too_many_words', `querystring/q has more than ${MAX_SEARCH_WORDS} words`, [
          { field: '/querystring/q', message: `must have at most ${MAX_SEARCH_WORDS} words` },
        ]);
      const page = await app.readRepos.catalog.listProducts({ words, after, limit });
      return {
        items: page.items,
        nextCursor: page.next ? encodeCursor([page.next.sortKey, page.next.productId]) : null,
      };
    },
  );

  app.get(
    '/v1/products/:id',
    {
      schema: {
        tags: ['catalog'],
        summary: 'One product with its list price, shelf life and end-of-day discount',
        params: IdParams,
        response: { 200: Product, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const product = await app.readRepos.catalog.findProduct(request.params.id);
      if (!product) throw notFound('Product');
      return product;
    },
  );

  app.patch(
    '/v1/products/:id',
    {
      onRequest: app.requireRole('operator', 'owner'),
      schema: {
        tags: ['catalog'],
        summary: 'Change a product; a new price applies to orders placed from now on, placed orders keep theirs',
        security: [{ bearer: [] }],
        params: IdParams,
        body: ProductChange,
        response: { 200: Product, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { name, ...rest } = request.body;
      const product = await catalog.updateProduct(request.params.id, {
        ...rest,
        ...(name === undefined ? {} : { name: name.trim() }),
      });
      if (product === 'unknown_category') throw unknownCategory(request.body.categoryId!);
      if (!product) throw notFound('Product');
      return product;
    },
  );
};

export default productRoutes;
