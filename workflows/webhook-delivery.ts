// One webhook endpoint's deliveries, as a loop that never holds events itself: the deliveries wait in Postgres
// (written with their events, so nothing committed can be lost), and the workflow only decides when to send.
//
// Each round runs one activity that sends everything due, then sleeps until the next delivery is due or a wake-up
// signal says new ones were committed. A burst of events costs one round, so the history grows per round, not per
// event, and a signal that is lost only delays: the timer (the next retry, or an idle recheck) looks anyway.
// The run continues as new after a bounded number of rounds, so its history stays small however long it lives.
// It ends when the endpoint is disabled or deleted; enabling it again starts it again.
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { webhookWakeSignal, type WebhookDeliveryInput } from './messages.js';

const { deliverWebhooks } = proxyActivities<Activities>({
  // A round sends at most 50 POSTs at once, each within its timeout, and stops itself after a minute.
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '45 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Rounds per run before continuing as new: about 10 history events each. */
export const WEBHOOK_ROUNDS_PER_RUN = 200;

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<void> {
  let woken = false;
  setHandler(webhookWakeSignal, () => {
    woken = true;
  });
  for (let round = 0; round < WEBHOOK_ROUNDS_PER_RUN; round++) {
    // Cleared before the round, so a signal that arrives while it runs makes the next round start at once.
    woken = false;
    const outcome = await deliverWebhooks({ endpointId: input.endpointId, now: Date.now() });
    if (outcome.state !== 'active') return;
    const waitMs = outcome.nextDueAt === null ? input.idleRecheckMs : outcome.nextDueAt - Date.now();
    if (waitMs > 0 && !woken) await condition(() => woken, waitMs);
    if (workflowInfo().continueAsNewSuggested) break;
  }
  await continueAsNew<typeof webhookDeliveryWorkflow>(input);
}
