// `npm run bench -- slots`: how long after its cutoff a slot closes (the slot workflow's timer, its re-read and the
// closing transaction), against a bare workflow that sleeps to the same kind of instant and runs one activity.
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { temporalDataConverter } from '../src/temporal.js';
import type { slotWorkflow } from '../workflows/slot.js';
import { numberFlag } from './support/args.js';
import { percentile, round, startBenchStack, type BenchStack } from './support/stack.js';
import type { timerAt } from './workflows/timer.js';

interface Options {
  slots: number;
  /** The first cutoff is this far ahead; the rest follow at `spacingMs` apart. */
  leadMs: number;
  spacingMs: number;
}

/** A first short round of each, not counted: the worker loads the workflow code and opens its connections. */
const WARM_UP: Options = { slots: 2, leadMs: 1_000, spacingMs: 100 };

function parse(args: string[]): Options {
  return {
    slots: numberFlag(args, 'slots', 20),
    leadMs: numberFlag(args, 'lead-ms', 3_000),
    spacingMs: numberFlag(args, 'spacing-ms', 250),
  };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Milliseconds from each slot's cutoff to the `closed` event its workflow wrote, sorted. */
async function measureSlots(stack: BenchStack, opts: Options): Promise<number[]> {
  const [location] = await stack
    .db('locations')
    .insert({ name: 'Bench slots', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 8000 })
    .returning<{ id: string }[]>('id');
  const first = Date.now() + opts.leadMs;
  const slots: { id: string; cutoffAt: Date }[] = [];
  for (let i = 0; i < opts.slots; i++) {
    const cutoffAt = new Date(first + i * opts.spacingMs);
    const startsAt = new Date(cutoffAt.getTime() + 3_600_000 + i * 3_600_000);
    const [row] = await stack
      .db('slots')
      .insert({
        location_id: location!.id,
        starts_at: startsAt,
        ends_at: new Date(startsAt.getTime() + 3_600_000),
        capacity: 10,
        cutoff_at: cutoffAt,
      })
      .returning<{ id: string }[]>('id');
    slots.push({ id: row!.id, cutoffAt });
  }
  await Promise.all(
    slots.map((slot) =>
      stack.client.workflow.start<typeof slotWorkflow>('slotWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: `bench-slot-${slot.id}`,
        args: [{ slotId: slot.id }],
      }),
    ),
  );
  const delays = await Promise.all(
    slots.map(async (slot) => {
      const closed = await until(
        () =>
          stack
            .db('events')
            .where({ stream: `location:${location!.id}`, type: 'slot.capacity' })
            .whereRaw("payload->>'slotId' = ? AND payload->>'status' = 'closed'", [slot.id])
            .first<{ created_at: Date } | undefined>('created_at'),
        `slot ${slot.id} to close`,
        opts.leadMs + opts.slots * opts.spacingMs + 30_000,
      );
      return new Date(closed.created_at).getTime() - slot.cutoffAt.getTime();
    }),
  );
  await Promise.all(
    slots.map((slot) => stack.client.workflow.getHandle(`bench-slot-${slot.id}`).terminate('benchmark done')),
  );
  return delays.sort((a, b) => a - b);
}

/** Milliseconds from each instant to the activity the bare timer workflow ran at it, sorted. */
async function measureTimers(stack: BenchStack, opts: Options): Promise<number[]> {
  const taskQueue = 'bench-timer';
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./workflows/timer.ts', import.meta.url)),
    logger: new DefaultLogger('ERROR'),
  });
  const worker = await Worker.create({
    connection: stack.workerConnection,
    taskQueue,
    workflowBundle: { code },
    dataConverter: temporalDataConverter(stack.config),
    activities: { stamp: async () => Date.now() },
  });
  const once = async (o: Options) => {
    const first = Date.now() + o.leadMs;
    const delays = await Promise.all(
      Array.from({ length: o.slots }, async (_, i) => {
        const atMs = first + i * o.spacingMs;
        const stamped = await stack.client.workflow.execute<typeof timerAt>('timerAt', {
          taskQueue,
          workflowId: `bench-timer-${i}-${first}`,
          args: [atMs],
        });
        return stamped - atMs;
      }),
    );
    return delays.sort((a, b) => a - b);
  };
  return worker.runUntil(async () => {
    await once(WARM_UP);
    return once(opts);
  });
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  console.error(
    `slots: ${opts.slots} cutoffs ${opts.spacingMs} ms apart from ${opts.leadMs} ms ahead; starting the stack…`,
  );
  const stack = await startBenchStack();
  try {
    const timers = await measureTimers(stack, opts);
    await measureSlots(stack, WARM_UP);
    const slots = await measureSlots(stack, opts);
    const result = {
      bench: 'slots',
      slots: opts.slots,
      close_delay_p50_ms: round(percentile(slots, 50)),
      close_delay_p99_ms: round(percentile(slots, 99)),
      close_delay_max_ms: round(slots[slots.length - 1]!),
      close_delay_min_ms: round(slots[0]!),
      timer_delay_p50_ms: round(percentile(timers, 50)),
      timer_delay_p99_ms: round(percentile(timers, 99)),
      ratio: round(percentile(slots, 50) / Math.max(1, percentile(timers, 50)), 2),
    };
    console.log(
      `slot closed after its cutoff: p50 ${result.close_delay_p50_ms} ms, p99 ${result.close_delay_p99_ms} ms, max ${result.close_delay_max_ms} ms; bare timer + activity p50 ${result.timer_delay_p50_ms} ms, p99 ${result.timer_delay_p99_ms} ms (ratio ${result.ratio})`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}
