// The small chaos run: orders with every outcome survive worker kills and restarts of Temporal, Postgres and the API,
// and every order event reaches a webhook receiver that is killed and restarted meanwhile, in order.
import { expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos.js';

it('loses no order and leaves none inconsistent through kills and restarts', async () => {
  const result = await runChaos({
    orders: 28,
    concurrency: 7,
    workerKills: 2,
    deadlineMs: 240_000,
    log: () => undefined,
  });
  expect(result.problems).toEqual([]);
  expect(result).toMatchObject({ orders: 28, lost: 0, inconsistent: 0 });
  expect(result.kills).toBe(2);
  expect(result.restarts).toMatchObject({ temporal: 1, postgres: 1, api: 1 });
  expect(result.streams.missing).toBe(0);
  expect(result.webhooks).toMatchObject({ lost: 0, out_of_order: 0, receiver_kills: 1 });
  expect(result.webhooks.delivered).toBe(result.webhooks.expected);
  expect(result.webhooks.expected).toBeGreaterThan(28 * 3);
}, 300_000);
