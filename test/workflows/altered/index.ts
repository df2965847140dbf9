// A deliberately non-deterministic change to the order workflow, for the replay test to catch: the same workflow type
// name, starting with a timer where the recorded histories start with writing the order.
import { sleep } from '@temporalio/workflow';
import type { OrderInput, OrderState } from '../../../workflows/messages.js';
import { orderWorkflow as orderWorkflowToday } from '../../../workflows/order.js';

export * from '../../../workflows/index.js';

export async function orderWorkflow(input: OrderInput): Promise<OrderState> {
  await sleep('1 second');
  return orderWorkflowToday(input);
}
