// Run by a Schedule: gives back what orders held when their workflow ended without compensating (terminated, failed, timed out).
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ReconcileInput, ReconcileResult } from '../activities/reconcile.js';

const sweeps = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  // The sweep heartbeats once per workflow it examines: a dead worker is noticed in a minute, not ten.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/** Fifteen minutes for an operator to reset an ended order before its holds are given back; a week of history to look through. */
export const RECONCILE_DEFAULTS: ReconcileInput = { graceMs: 15 * 60_000, lookbackMs: 7 * 24 * 3_600_000 };

export async function orderReconcileWorkflow(input: ReconcileInput = RECONCILE_DEFAULTS): Promise<ReconcileResult> {
  return sweeps.reconcileEndedOrders(input);
}
