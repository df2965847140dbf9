// The database as workflows call it: short writes as local activities, which add no scheduled, started and completed
// events to the history, only a marker.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

export const db = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});
