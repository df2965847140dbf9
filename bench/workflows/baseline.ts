// The orders benchmark's baseline: the same shape of activities, signals, updates and child as an order, doing nothing.
import {
  allHandlersFinished,
  condition,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { searchAttributes } from '../../workflows/messages.js';

/** The task queue of the baseline's own worker process (bench/workflows/baseline-worker.ts). */
export const BASELINE_TASK_QUEUE = 'bench-baseline';

export interface BaselineActivities {
  noop(): Promise<void>;
}

export const paidSignal = defineSignal('paid');
export const progressSignal = defineSignal<[string]>('progress');
export const placedUpdate = defineUpdate<string>('placed');
export const stepUpdate = defineUpdate<string, [string]>('step');

const local = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });
const remote = proxyActivities<BaselineActivities>({ startToCloseTimeout: '10 seconds' });

export async function baselineOrder(): Promise<void> {
  let status = 'placed';
  let paid = false;
  let pickedUp = false;
  setHandler(paidSignal, () => void (paid = true));
  setHandler(progressSignal, (progress) => void (pickedUp ||= progress === 'picked_up'));
  setHandler(placedUpdate, async () => {
    await condition(() => status !== 'placed');
    return status;
  });
  let deliveryStarted = false;
  setHandler(stepUpdate, async (next) => {
    // Like the shop, the driver of the benchmark preps only what is paid.
    if (next === 'prepping') await condition(() => status === 'confirmed');
    status = next;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: next }]);
    await local.noop();
    // The caller learns of the delivery from the answer, as the shop's driver learns of it from the live stream.
    if (next === 'prepped') await condition(() => deliveryStarted);
    return status;
  });
  const move = async (next: string) => {
    status = next;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: next }]);
    await local.noop();
  };
  await local.noop();
  await local.noop();
  await local.noop();
  await remote.noop();
  await move('awaiting_payment');
  await condition(() => paid);
  await move('confirmed');
  await condition(() => status === 'prepped');
  const child = await startChild(baselineDelivery, {
    workflowId: `${workflowInfo().workflowId}-delivery`,
    args: [workflowInfo().workflowId],
  });
  deliveryStarted = true;
  // As the order follows its delivery: the delivery's steps write out_for_delivery and completed, the order only
  // upserts them.
  const follow = (next: string) => {
    status = next;
    upsertSearchAttributes([{ key: searchAttributes.orderStatus, value: next }]);
  };
  await condition(() => pickedUp);
  follow('out_for_delivery');
  await child.result();
  follow('completed');
  await condition(allHandlersFinished);
}

export async function baselineDelivery(parentId: string): Promise<void> {
  let status = 'pending';
  const parent = getExternalWorkflowHandle(parentId);
  setHandler(stepUpdate, async (next) => {
    status = next;
    if (next === 'assigned') upsertSearchAttributes([{ key: searchAttributes.driverId, value: 'driver' }]);
    await local.noop();
    if (next !== 'delivered') await parent.signal(progressSignal, next);
    return status;
  });
  await local.noop();
  await condition(() => status === 'delivered');
  await condition(allHandlersFinished);
}
