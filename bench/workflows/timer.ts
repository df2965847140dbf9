// The slots benchmark's baseline: a workflow that sleeps until a wall-clock instant and then runs one activity, as a
// slot does at its cutoff, doing nothing else.
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface TimerActivities {
  /** The worker's clock when the activity ran. */
  stamp(): Promise<number>;
}

const { stamp } = proxyActivities<TimerActivities>({ startToCloseTimeout: '10 seconds' });

export async function timerAt(atMs: number): Promise<number> {
  const waitMs = atMs - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  return stamp();
}
