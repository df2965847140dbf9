// Logging from activities: the SDK's activity logger, which adds workflowId and the activity's ids, plus the order id.
import { Context } from '@temporalio/activity';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Logs a line about one order; silent when called outside an activity, as tests of the bare functions do. */
export function logOrder(level: Level, orderId: string, message: string, fields: Record<string, unknown> = {}): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.log[level](message, { orderId, ...fields });
}
