// Temporal Schedules the system runs on: creating the coming days' slots; created once, idempotently, when a worker starts.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { slotPlannerWorkflow } from '../workflows/slot.js';

export const SLOT_PLANNER_SCHEDULE_ID = 'slot-planner';
/** Two days ahead keeps at least a full day of slots open between the nightly runs. */
export const SLOT_DAYS_AHEAD = 2;

export async function ensureSchedules(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: SLOT_PLANNER_SCHEDULE_ID,
      spec: { calendars: [{ hour: 0, minute: 5 }] },
      action: { type: 'startWorkflow', workflowType: 'slotPlannerWorkflow' satisfies (typeof slotPlannerWorkflow)['name'], taskQueue, args: [{ daysAhead: SLOT_DAYS_AHEAD }] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      // Plan right away too, so new templates do not wait for the night.
      state: { triggerImmediately: true },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}
