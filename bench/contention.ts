// `npm run bench -- contention [--buyers 500] [--units 50] [--rounds 10] [--connections 50]`: buyers race for a few units.
// Each round, `buyers` concurrent reserveStock calls race for one lot of `units` units: exactly `units` must win.
// The same race on a raw single-row conditional UPDATE, sent the same way (a prepared statement straight to
// node-postgres), is the baseline for the throughput ratio; the same UPDATE through knex, as this bench sent it before
// the reservation took that path, gives a second ratio. The contenders take turns, round by round, after an uncounted
// round each; each one's CPU per decision, in Postgres (its backends) and in the caller, says where the difference is.
// A last round races multi-line baskets naming the same products in opposite orders (deadlock bait), then the
// invariants are checked.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createInventoryActivities } from '../activities/inventory.js';
import { checkInventoryInvariants } from '../src/db/invariants.js';
import { queryPrepared } from '../src/db/prepared.js';
import { startLightStack } from './support/light-stack.js';
import { ownCpuSeconds, treeCpuSeconds } from './support/cpu.js';
import { round } from './support/stack.js';
import { numberFlag } from './support/args.js';

interface Options {
  buyers: number;
  units: number;
  rounds: number;
  connections: number;
}

function parse(args: string[]): Options {
  const int = (name: string, fallback: number) => numberFlag(args, name, fallback);
  return {
    buyers: int('buyers', 500),
    units: int('units', 50),
    rounds: int('rounds', 10),
    connections: int('connections', 50),
  };
}

async function freshLot(db: Knex, units: number): Promise<{ locationId: string; productId: string }> {
  const [location] = await db('locations')
    .insert({ name: 'Contended bakery', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 5000 })
    .returning<{ id: string }[]>('id');
  const [product] = await db('products')
    .insert({ name: 'Last croissant', price_cents: 325, shelf_life_minutes: 720 })
    .returning<{ id: string }[]>('id');
  await db('stock_lots').insert({
    location_id: location!.id,
    product_id: product!.id,
    quantity: units,
    available: units,
    free_units: `{[0,${units})}`,
    produced_at: new Date(Date.now() - 3_600_000),
    expires_at: new Date(Date.now() + 6 * 3_600_000),
  });
  return { locationId: location!.id, productId: product!.id };
}

/** The baseline: one conditional UPDATE of one row. */
const RAW_UPDATE =
  'UPDATE bench_raw_stock SET available = available - 1 WHERE id = :id AND available >= 1 RETURNING id';

interface RaceResult {
  winners: number[];
  perSecond: number;
  clientCpuMs: number;
  postgresCpuMs: number;
}

type Contender = () => Promise<(buyer: number) => Promise<boolean>>;

interface Tally {
  winners: number[];
  seconds: number;
  clientCpuS: number;
  postgresCpuS: number;
}

/** One race: `buyers` concurrent calls of a fresh contest; its winners, time and CPU (this process's and Postgres's). */
async function raceOnce(buyers: number, postgresPid: number, prepare: Contender, tally: Tally): Promise<void> {
  const buy = await prepare();
  const [clientBefore, postgresBefore] = [ownCpuSeconds(), treeCpuSeconds(postgresPid)];
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: buyers }, (_, i) => buy(i)));
  tally.seconds += (performance.now() - started) / 1000;
  tally.clientCpuS += ownCpuSeconds() - clientBefore;
  tally.postgresCpuS += treeCpuSeconds(postgresPid) - postgresBefore;
  tally.winners.push(outcomes.filter(Boolean).length);
}

/**
 * Races each contender in turn, round after round, after one uncounted round each (so neither pays for the first calls
 * on its connections, or for warming up the code it runs, and drift on the machine falls on both alike). Returns each
 * one's winners per round, decisions per second over its rounds, and the CPU each decision cost this process (the
 * callers: knex, pg and, for ours, the activity) and Postgres (its backends).
 */
async function race(
  rounds: number,
  buyers: number,
  postgresPid: number,
  contenders: Contender[],
): Promise<RaceResult[]> {
  const tallies = contenders.map((): Tally => ({ winners: [], seconds: 0, clientCpuS: 0, postgresCpuS: 0 }));
  const warmUp = contenders.map((): Tally => ({ winners: [], seconds: 0, clientCpuS: 0, postgresCpuS: 0 }));
  for (const [i, prepare] of contenders.entries()) await raceOnce(buyers, postgresPid, prepare, warmUp[i]!);
  for (let r = 0; r < rounds; r++)
    for (const [i, prepare] of contenders.entries()) await raceOnce(buyers, postgresPid, prepare, tallies[i]!);
  const decisions = rounds * buyers;
  return tallies.map((t, i) => ({
    winners: [...warmUp[i]!.winners, ...t.winners],
    perSecond: decisions / t.seconds,
    clientCpuMs: (t.clientCpuS * 1000) / decisions,
    postgresCpuMs: (t.postgresCpuS * 1000) / decisions,
  }));
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  console.error(
    `contention: ${opts.buyers} buyers race for ${opts.units} units, ${opts.rounds} rounds, ${opts.connections} connections; starting Postgres and Temporal…`,
  );
  const stack = await startLightStack({ api: false, poolMax: opts.connections });
  try {
    const db = stack.db;
    const stock = createInventoryActivities(db);
    await db.raw('CREATE TABLE bench_raw_stock (id int PRIMARY KEY, available int NOT NULL CHECK (available >= 0))');
    // Open every connection first, so neither contender pays for connecting.
    await Promise.all(Array.from({ length: opts.connections }, () => db.raw('SELECT pg_sleep(0.05)')));

    const reserveOne: Contender = async () => {
      const { locationId, productId } = await freshLot(db, opts.units);
      return async () => {
        const result = await stock.reserveStock({
          orderId: randomUUID(),
          locationId,
          lines: [{ productId, quantity: 1 }],
          deliverBy: new Date(Date.now() + 3_600_000).toISOString(),
        });
        return result.status === 'reserved';
      };
    };
    let rawId = 0;
    const freshRow = async () => {
      const id = ++rawId;
      await db('bench_raw_stock').insert({ id, available: opts.units });
      return id;
    };
    // The baseline, a conditional UPDATE of one row, sent the way a reservation is: a prepared statement straight to
    // node-postgres.
    const updateOne: Contender = async () => {
      const id = await freshRow();
      return async () => (await queryPrepared(db, 'bench_raw_update', RAW_UPDATE, { id })).length === 1;
    };
    // And through knex, as this bench sent it before the reservation took the prepared path.
    const updateOneByKnex: Contender = async () => {
      const id = await freshRow();
      return async () =>
        (await db.raw('UPDATE bench_raw_stock SET available = available - 1 WHERE id = ? AND available >= 1', [id]))
          .rowCount === 1;
    };
    const [ours, raw, rawByKnex] = (await race(opts.rounds, opts.buyers, stack.postgresPid, [
      reserveOne,
      updateOne,
      updateOneByKnex,
    ])) as [RaceResult, RaceResult, RaceResult];
    console.error(
      `reserveStock: ${round(ours.perSecond)} decisions/s, CPU ms per decision: Postgres ${round(ours.postgresCpuMs, 3)}, caller ${round(ours.clientCpuMs, 3)}; winners per round ${ours.winners.join(' ')}`,
    );
    console.error(
      `raw conditional UPDATE: ${round(raw.perSecond)} decisions/s, CPU ms per decision: Postgres ${round(raw.postgresCpuMs, 3)}, caller ${round(raw.clientCpuMs, 3)}; winners per round ${raw.winners.join(' ')}`,
    );
    console.error(
      `the same UPDATE through knex: ${round(rawByKnex.perSecond)} decisions/s, CPU ms per decision: Postgres ${round(rawByKnex.postgresCpuMs, 3)}, caller ${round(rawByKnex.clientCpuMs, 3)}`,
    );

    // Baskets of three products, half in one order and half in the other: with an inconsistent lock order these deadlock.
    const [location] = await db('locations')
      .insert({ name: 'Basket bakery', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 5000 })
      .returning<{ id: string }[]>('id');
    const products: string[] = [];
    for (const name of ['Basket loaf', 'Basket bun', 'Basket tart']) {
      const [product] = await db('products')
        .insert({ name, price_cents: 300, shelf_life_minutes: 720 })
        .returning<{ id: string }[]>('id');
      products.push(product!.id);
      for (let lot = 0; lot < 3; lot++) {
        await db('stock_lots').insert({
          location_id: location!.id,
          product_id: product!.id,
          quantity: opts.units,
          available: opts.units,
          free_units: `{[0,${opts.units})}`,
          produced_at: new Date(Date.now() - (lot + 1) * 600_000),
          expires_at: new Date(Date.now() + 6 * 3_600_000),
        });
      }
    }
    let deadlocks = 0;
    let basketWinners = 0;
    const basketStarted = performance.now();
    await Promise.all(
      Array.from({ length: opts.buyers }, async (_, i) => {
        const lines = products.map((productId) => ({ productId, quantity: 1 }));
        try {
          const result = await stock.reserveStock({
            orderId: randomUUID(),
            locationId: location!.id,
            lines: i % 2 === 0 ? lines : lines.reverse(),
            deliverBy: new Date(Date.now() + 3_600_000).toISOString(),
          });
          if (result.status === 'reserved') basketWinners++;
        } catch (err) {
          if ((err as { code?: string }).code === '40P01') deadlocks++;
          else throw err;
        }
      }),
    );
    const basketSeconds = (performance.now() - basketStarted) / 1000;
    const basketUnits = 3 * opts.units;
    console.error(
      `baskets: ${basketWinners} of ${opts.buyers} won (${basketUnits} of each product), ${deadlocks} deadlocks, ${round(opts.buyers / basketSeconds)} decisions/s`,
    );

    const violations = await checkInventoryInvariants(db);
    for (const violation of violations) console.error(`invariant violated: ${violation}`);
    const exact =
      ours.winners.every((w) => w === opts.units) &&
      raw.winners.every((w) => w === opts.units) &&
      rawByKnex.winners.every((w) => w === opts.units) &&
      basketWinners === Math.min(opts.buyers, basketUnits);
    const result = {
      bench: 'contention',
      buyers: opts.buyers,
      units: opts.units,
      rounds: opts.rounds,
      connections: opts.connections,
      winners_per_round: ours.winners[0],
      exactly_units_won: exact,
      reservations_per_s: round(ours.perSecond),
      raw_updates_per_s: round(raw.perSecond),
      ratio: round(ours.perSecond / raw.perSecond, 3),
      // Where a decision's time goes: CPU per decision in Postgres and in the calling process, for each contender.
      postgres_cpu_ms_per_reservation: round(ours.postgresCpuMs, 3),
      caller_cpu_ms_per_reservation: round(ours.clientCpuMs, 3),
      postgres_cpu_ms_per_raw_update: round(raw.postgresCpuMs, 3),
      caller_cpu_ms_per_raw_update: round(raw.clientCpuMs, 3),
      raw_knex_updates_per_s: round(rawByKnex.perSecond),
      ratio_to_knex_update: round(ours.perSecond / rawByKnex.perSecond, 3),
      caller_cpu_ms_per_raw_knex_update: round(rawByKnex.clientCpuMs, 3),
      basket_winners: basketWinners,
      basket_decisions_per_s: round(opts.buyers / basketSeconds),
      deadlocks,
      invariant_violations: violations.length,
    };
    console.log(
      `reserveStock ${result.reservations_per_s} decisions/s vs raw UPDATE ${result.raw_updates_per_s} (ratio ${result.ratio}; ${result.ratio_to_knex_update} against the UPDATE through knex); exactly ${opts.units} of ${opts.buyers} won every round: ${exact}; ${deadlocks} deadlocks; ${violations.length} invariant violations`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
