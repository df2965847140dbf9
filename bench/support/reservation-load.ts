// Background order traffic for benchmarks, in its own process: reserves stock at a steady rate, then commits or releases it.
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createDb } from '../../src/db/knex.js';

export interface ReservationLoadJob {
  databaseUrl: string;
  /** Where stock can be found: a location and one of its products. */
  candidates: { locationId: string; productId: string }[];
  perSecond: number;
}

export interface ReservationLoadResult {
  reserved: number;
  outOfStock: number;
  committed: number;
  released: number;
  errors: number;
  seconds: number;
}

/** Starts the load in a child process; `stop()` ends it and resolves with what it did. */
export function startReservationLoad(job: ReservationLoadJob): { stop(): Promise<ReservationLoadResult> } {
  const child = fork(new URL(import.meta.url), [], { execArgv: ['--import', 'tsx'] });
  const result = new Promise<ReservationLoadResult>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ReservationLoadResult));
    child.once('error', reject);
  });
  child.send(job);
  return {
    async stop() {
      child.send('stop');
      return result;
    },
  };
}

async function generate(job: ReservationLoadJob): Promise<void> {
  const db = createDb(job.databaseUrl, { max: 8 });
  const stock = createInventoryActivities(db);
  const counts: ReservationLoadResult = {
    reserved: 0,
    outOfStock: 0,
    committed: 0,
    released: 0,
    errors: 0,
    seconds: 0,
  };
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let stopping = false;
  process.once('message', () => {
    stopping = true;
  });

  const order = async () => {
    const candidate = job.candidates[Math.floor(Math.random() * job.candidates.length)]!;
    const orderId = randomUUID();
    const result = await stock.reserveStock({
      orderId,
      locationId: candidate.locationId,
      lines: [{ productId: candidate.productId, quantity: 1 + Math.floor(Math.random() * 2) }],
      deliverBy: new Date(Date.now() + 3_600_000).toISOString(),
    });
    if (result.status === 'out_of_stock') {
      counts.outOfStock++;
      return;
    }
    counts.reserved++;
    // Half the orders are paid and picked up, half are abandoned.
    if (Math.random() < 0.5) {
      await stock.commitStock(orderId);
      counts.committed++;
    } else {
      await stock.releaseStock(orderId);
      counts.released++;
    }
  };

  const interval = 1000 / job.perSecond;
  let next = performance.now();
  while (!stopping) {
    // A steady arrival rate, but never more than 16 orders waiting at once.
    if (inFlight.size < 16) {
      const task: Promise<void> = order()
        .catch(() => {
          counts.errors++;
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    next += interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  counts.seconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  await db.destroy();
  process.send!(counts, () => process.exit(0));
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (job: ReservationLoadJob) => void generate(job));
}
