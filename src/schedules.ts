// Temporal Schedules the system runs on: creating the coming days' slots, discarding stale stock, reconciling ended orders and keeping the event log's partitions, created once, idempotently, when a worker starts; and the owners' production plans.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { searchAttributes } from '../workflows/messages.js';
import type { endOfDayWorkflow, productionRunWorkflow, staleSweepWorkflow } from '../workflows/lot.js';
import type { eventPartitionsWorkflow } from '../workflows/event-partitions.js';
import type { orderReconcileWorkflow } from '../workflows/reconcile.js';
import type { slotPlannerWorkflow } from '../workflows/slot.js';

export const SLOT_PLANNER_SCHEDULE_ID = 'slot-planner';
/** Two days ahead keeps at least a full day of slots open between the nightly runs. */
export const SLOT_DAYS_AHEAD = 2;
export const STALE_SWEEP_SCHEDULE_ID = 'stale-sweep';
export const END_OF_DAY_SCHEDULE_ID = 'end-of-day';
export const ORDER_RECONCILE_SCHEDULE_ID = 'order-reconcile';
export const EVENT_PARTITIONS_SCHEDULE_ID = 'event-partitions';

export async function ensureSchedules(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: SLOT_PLANNER_SCHEDULE_ID,
      spec: { calendars: [{ hour: 0, minute: 5 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'slotPlannerWorkflow' satisfies (typeof slotPlannerWorkflow)['name'],
        taskQueue,
        args: [{ daysAhead: SLOT_DAYS_AHEAD }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      // Plan right away too, so new templates do not wait for the night.
      state: { triggerImmediately: true },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const sweeps = [
    // Lot timers discard on time; this catches lots whose timer never started (Temporal was down when they arrived) or ran late.
    {
      scheduleId: STALE_SWEEP_SCHEDULE_ID,
      workflowType: 'staleSweepWorkflow' satisfies (typeof staleSweepWorkflow)['name'],
    },
    // Locations close at different local times, so the end-of-day discard runs every half hour and each run throws out
    // the leftovers of the locations that have closed since; it only touches lots made before their location's last closing.
    {
      scheduleId: END_OF_DAY_SCHEDULE_ID,
      workflowType: 'endOfDayWorkflow' satisfies (typeof endOfDayWorkflow)['name'],
      every: '30 minutes',
    },
    // Orders whose workflow an operator terminated (or that failed) still hold stock, capacity and money: give them back.
    {
      scheduleId: ORDER_RECONCILE_SCHEDULE_ID,
      workflowType: 'orderReconcileWorkflow' satisfies (typeof orderReconcileWorkflow)['name'],
    },
  ];
  for (const sweep of sweeps) {
    try {
      await client.schedule.create({
        scheduleId: sweep.scheduleId,
        spec: { intervals: [{ every: sweep.every ?? '15 minutes' }] },
        action: { type: 'startWorkflow', workflowType: sweep.workflowType, taskQueue, args: [] },
        // A missed sweep is covered by the next one; running all the missed ones after an outage would add nothing.
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '15 minutes' },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
  }
  try {
    await client.schedule.create(eventPartitionsSchedule(taskQueue));
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

/**
 * The event log's coming days get their partitions days ahead, and days past retention go. Hourly is plenty: the
 * days ahead cover a day of missed runs many times over, and the default partition catches the rest.
 */
export function eventPartitionsSchedule(taskQueue: string) {
  return {
    scheduleId: EVENT_PARTITIONS_SCHEDULE_ID,
    spec: { intervals: [{ every: '1 hour' }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'eventPartitionsWorkflow' satisfies (typeof eventPartitionsWorkflow)['name'],
      taskQueue,
      args: [],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
  } satisfies ScheduleOptions;
}

export const productionScheduleId = (locationId: string, productId: string) => `production-${locationId}-${productId}`;

export interface ProductionPlan {
  locationId: string;
  productId: string;
  everyMinutes: number;
  quantity: number;
}

/** A plan as its owner reads it back, with when it runs next and last ran (null before its first run). */
export interface ProductionPlanView extends ProductionPlan {
  scheduleId: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  paused: boolean;
}

const productionArgs = (plan: ProductionPlan) => [
  { locationId: plan.locationId, productId: plan.productId, quantity: plan.quantity },
];

/** Creates the plan's Schedule, or changes the interval and quantity of the one that exists. */
export async function putProductionSchedule(client: Client, taskQueue: string, plan: ProductionPlan): Promise<void> {
  const scheduleId = productionScheduleId(plan.locationId, plan.productId);
  const spec = { intervals: [{ every: `${plan.everyMinutes} minutes` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'productionRunWorkflow' satisfies (typeof productionRunWorkflow)['name'],
    workflowId: scheduleId,
    taskQueue,
    args: productionArgs(plan),
  };
  // Indexed by location, so a location's plans can be listed without reading every Schedule in the namespace.
  const typedSearchAttributes = [{ key: searchAttributes.locationId, value: plan.locationId }];
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      typedSearchAttributes,
      // Bakes missed while the system was down are not made up later in a burst.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((previous) => ({ ...previous, spec, action, typedSearchAttributes }));
  }
}

/** Stops the plan; false when there was none. */
export async function deleteProductionSchedule(
  client: Client,
  locationId: string,
  productId: string,
): Promise<boolean> {
  try {
    await client.schedule.getHandle(productionScheduleId(locationId, productId)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Pauses or resumes the plan's Schedule; false when there is no plan. Lots already made keep their timers. */
export async function pauseProductionSchedule(
  client: Client,
  locationId: string,
  productId: string,
  paused: boolean,
): Promise<boolean> {
  const handle = client.schedule.getHandle(productionScheduleId(locationId, productId));
  try {
    if (paused) await handle.pause('paused by the location');
    else await handle.unpause('resumed by the location');
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** One plan as its owner reads it back, from its Schedule; undefined when there is no such plan. */
export async function describeProductionPlan(
  client: Client,
  locationId: string,
  scheduleId: string,
): Promise<ProductionPlanView | undefined> {
  try {
    const schedule = await client.schedule.getHandle(scheduleId).describe();
    const [args] = schedule.action.args as [{ productId: string; quantity: number }];
    const lastRun = schedule.info.recentActions.at(-1);
    return {
      locationId,
      productId: args.productId,
      everyMinutes: Math.round((schedule.spec.intervals?.[0]?.every ?? 0) / 60_000),
      quantity: args.quantity,
      scheduleId,
      nextRunAt: schedule.state.paused ? null : (schedule.info.nextActionTimes[0]?.toISOString() ?? null),
      lastRunAt: lastRun?.takenAt.toISOString() ?? null,
      paused: schedule.state.paused,
    };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The location's production plans, by product id. Which plans exist comes from Temporal's list of Schedules, which
 * follows a change within a second or so; each plan's details are then read from its Schedule itself.
 */
export async function listProductionPlans(client: Client, locationId: string): Promise<ProductionPlanView[]> {
  const prefix = productionScheduleId(locationId, '');
  const ids: string[] = [];
  // locationId is a validated uuid, so it cannot break out of the query's quotes.
  for await (const summary of client.schedule.list({ query: `LocationId = '${locationId}'` })) {
    if (summary.scheduleId.startsWith(prefix)) ids.push(summary.scheduleId);
  }
  // A plan deleted since the list was read is left out.
  const plans = await Promise.all(ids.map((scheduleId) => describeProductionPlan(client, locationId, scheduleId)));
  return plans
    .filter((plan): plan is ProductionPlanView => plan !== undefined)
    .sort((a, b) => a.productId.localeCompare(b.productId));
}
