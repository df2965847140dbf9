// Builds every activity from its dependencies, so tests can hand in a real test database or fakes.
import type { Knex } from 'knex';
import { createOrderActivities } from './orders.js';

export interface ActivityDeps {
  db: Knex;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderActivities(deps.db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
