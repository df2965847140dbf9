// Product categories: anyone reads the list customers filter by, operators add and remove categories.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { conflict, notFound } from '../errors.js';
import { errorResponses, Uuid } from '../schemas.js';
import { ProductName, Timestamp } from './catalog.js';

export const Category = Type.Object({ id: Uuid, name: Type.String(), createdAt: Timestamp });

const categoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { categories } = app.repos;

  app.get(
    '/v1/categories',
    {
      schema: {
        tags: ['catalog'],
        summary: 'Every product category, in name order',
        response: { 200: Type.Object({ items: Type.Array(Category) }) },
      },
    },
    async () => ({ items: await app.readRepos.categories.listCategories() }),
  );

  app.post(
    '/v1/categories',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['catalog'],
        summary: 'Add a product category',
        security: [{ bearer: [] }],
        body: Type.Object({ name: ProductName }, { additionalProperties: false }),
        response: { 201: Category, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const name = request.body.name.trim();
      const category = await categories.createCategory(name);
      if (category === 'category_exists') throw conflict('category_exists', `A category named "${name}" exists`);
      return reply.code(201).send(category);
    },
  );

  app.delete(
    '/v1/categories/:id',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['catalog'],
        summary: 'Remove a product category no product is in',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Uuid }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      switch (await categories.deleteCategory(request.params.id)) {
        case 'deleted':
          return reply.code(204).send(null);
        case 'unknown_category':
          throw notFound('Category');
        case 'category_in_use':
          throw conflict('category_in_use', 'Products are in this category: move them to another first');
      }
    },
  );
};

export default categoryRoutes;
