// Decorates the app with its repositories, built once over the shared knex instance, and the reads a replica may serve.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Knex } from 'knex';
import { createReadPool, type ReadPool } from '../../db/read-pool.js';
import {
  createReadRepositories,
  createRepositories,
  type ReadRepositories,
  type Repositories,
} from '../../db/repositories/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The pool itself, for what is no query: readiness pings through the database repository, the LISTEN fan-out. */
    db: Knex;
    repos: Repositories;
    /** Reads that decide nothing (availability, locations, slot lists, the catalogue): from the read replica when one is well. */
    readRepos: ReadRepositories;
    readPool: ReadPool;
  }
}

export default fp(
  async (app: FastifyInstance, opts: { db: Knex; readReplica?: { url: string | undefined; maxLagMs: number } }) => {
    app.decorate('db', opts.db);
    app.decorate('repos', createRepositories(opts.db));
    const readPool = createReadPool({
      primary: opts.db,
      replicaUrl: opts.readReplica?.url,
      maxLagMs: opts.readReplica?.maxLagMs ?? 0,
      log: app.log,
    });
    app.decorate('readPool', readPool);
    app.decorate('readRepos', createReadRepositories(readPool));
    app.addHook('onClose', () => readPool.close());
  },
  { name: 'repositories' },
);
