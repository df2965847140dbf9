// Decorates the app with its repositories, built once over the shared knex instance.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Knex } from 'knex';
import { createRepositories, type Repositories } from '../../db/repositories/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The pool itself, for what is no query: readiness pings through the database repository, the LISTEN fan-out. */
    db: Knex;
    repos: Repositories;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { db: Knex }) => {
    app.decorate('db', opts.db);
    app.decorate('repos', createRepositories(opts.db));
  },
  { name: 'repositories' },
);
