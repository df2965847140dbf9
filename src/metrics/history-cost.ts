// What one workflow run costs the Temporal service, read from its recorded history: events, workflow tasks, stored bytes, billable actions.
// `npx tsx src/metrics/history-cost.ts test/fixtures/histories/*.json` prints one JSON line per file; docs/scaling.md uses the figures.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';

interface HistoryEvent {
  eventType?: string;
  activityTaskStartedEventAttributes?: { attempt?: number };
}

export interface HistoryCost {
  events: number;
  workflowTasks: number;
  localActivities: number;
  /** Activities run by the task queue (not local), each attempt counted: retries are billed too. */
  activityAttempts: number;
  timers: number;
  signals: number;
  updates: number;
  searchAttributeUpserts: number;
  childWorkflows: number;
  /** The history as the server stores it (protobuf), before any persistence overhead. */
  encodedBytes: number;
  /**
   * Temporal Cloud's billable actions as its documentation counts them from a history: a start (unless this run is a
   * child, whose start its parent pays), each accepted update, signal received, timer and search-attribute upsert, two
   * per child started, each attempt of an activity, and one per workflow task that ran local activities, however many it ran.
   */
  billableActions: number;
}

/** Counts a history in the JSON form `temporal workflow show --output json` writes. */
export function historyCost(json: { events?: HistoryEvent[] }): HistoryCost {
  const events = json.events ?? [];
  const count = (type: string) => events.filter((e) => e.eventType === `EVENT_TYPE_${type}`).length;
  // Markers follow the completion of the workflow task whose local activities they record.
  const tasksWithLocalActivities = new Set<number>();
  let task = -1;
  events.forEach((event, index) => {
    if (event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') task = index;
    if (event.eventType === 'EVENT_TYPE_MARKER_RECORDED') tasksWithLocalActivities.add(task);
  });
  const first = events[0] as
    { workflowExecutionStartedEventAttributes?: { parentWorkflowExecution?: unknown } } | undefined;
  const isChild = first?.workflowExecutionStartedEventAttributes?.parentWorkflowExecution !== undefined;

  const history = historyFromJSON(json);
  const encoder = history.constructor as unknown as { encode(message: unknown): { finish(): Uint8Array } };
  const cost = {
    events: events.length,
    workflowTasks: count('WORKFLOW_TASK_COMPLETED'),
    localActivities: count('MARKER_RECORDED'),
    // A started event records the attempt that ran last; the ones before it failed and were retried.
    activityAttempts:
      count('ACTIVITY_TASK_SCHEDULED') +
      events.reduce((n, e) => n + Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1), 0),
    timers: count('TIMER_STARTED'),
    signals: count('WORKFLOW_EXECUTION_SIGNALED'),
    updates: count('WORKFLOW_EXECUTION_UPDATE_ACCEPTED'),
    searchAttributeUpserts: count('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES'),
    childWorkflows: count('START_CHILD_WORKFLOW_EXECUTION_INITIATED'),
    encodedBytes: encoder.encode(history).finish().length,
  };
  return {
    ...cost,
    billableActions:
      (isChild ? 0 : 1) +
      cost.updates +
      cost.signals +
      cost.timers +
      cost.searchAttributeUpserts +
      2 * cost.childWorkflows +
      cost.activityAttempts +
      tasksWithLocalActivities.size,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { events?: HistoryEvent[] };
    console.log(JSON.stringify({ history: path.basename(file, '.json'), ...historyCost(json) }));
  }
}
