// Slot workflows: each slot closes itself at its cutoff (even a moved one) and finishes after it ends; a planner creates slots from templates.
import {
  ParentClosePolicy,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { slotSummary, utcDateTime, utcTime } from './details.js';
import { cutoffMovedSignal, slotClosedSignal } from './messages.js';

const slots = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export async function slotWorkflow(input: { slotId: string }): Promise<void> {
  let times = await slots.slotTimes(input.slotId);
  if (!times) return setCurrentDetails('the slot no longer exists');
  let moved = false;
  setHandler(cutoffMovedSignal, () => {
    moved = true;
  });

  // The database holds the cutoff; a move only tells us to read it again. A move that arrived while a read was in
  // flight (the first one included) may not be in what it returned, so it is kept for the next round.
  while (times && times.status === 'open' && Date.parse(times.cutoffAt) > Date.now()) {
    setCurrentDetails(`open for orders until the cutoff at ${utcDateTime(Date.parse(times.cutoffAt))}`);
    if (await condition(() => moved, Date.parse(times.cutoffAt) - Date.now())) {
      moved = false;
      times = await slots.slotTimes(input.slotId);
    }
  }
  if (!times) return setCurrentDetails('the slot no longer exists');

  setCurrentDetails('closing to new orders');
  const { awaitingPaymentOrderIds } = await slots.closeSlot(input.slotId);
  for (const orderId of awaitingPaymentOrderIds) {
    try {
      await getExternalWorkflowHandle(`order-${orderId}`).signal(slotClosedSignal);
    } catch {
      // The order ended on its own meanwhile: nothing to tell.
    }
  }

  const closedAt = utcTime(Date.now());
  setCurrentDetails(
    `closed to orders at ${closedAt} (${awaitingPaymentOrderIds.length} still unpaid were told); ends at ${utcDateTime(Date.parse(times.endsAt))}`,
  );
  const untilEnd = Date.parse(times.endsAt) - Date.now();
  if (untilEnd > 0) await sleep(untilEnd);
  await slots.finishSlot(input.slotId);
  setCurrentDetails(`finished at ${utcDateTime(Date.now())}`);
}

/** Run daily by a Schedule: creates the coming days' slots and starts a workflow for each new one. */
export async function slotPlannerWorkflow(input: { daysAhead: number }): Promise<number> {
  const created = await slots.createSlotsFromTemplates({ daysAhead: input.daysAhead });
  for (const slot of created) {
    await startChild(slotWorkflow, {
      workflowId: `slot-${slot.slotId}`,
      args: [{ slotId: slot.slotId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: slotSummary(slot),
    });
  }
  return created.length;
}
