// Run by a Schedule: makes the event log's partitions for the coming days and drops the days past retention.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { EventPartitionsResult } from '../activities/event-partitions.js';

const partitions = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  // A drop waits at most a few seconds for its lock; the next attempt comes when readers have moved on.
  retry: { initialInterval: '30 seconds', maximumInterval: '5 minutes', maximumAttempts: 5 },
});

export async function eventPartitionsWorkflow(): Promise<EventPartitionsResult> {
  return partitions.maintainEventPartitions();
}
