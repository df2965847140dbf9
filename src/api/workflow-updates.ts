// Sends an update to a workflow and turns its refusals into the API's error shape.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { REFUSAL } from '../../workflows/messages.js';
import { conflict, forbidden, notFound } from './errors.js';

export async function sendUpdate<Ret, Arg>(
  client: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, [Arg]> | UpdateDefinition<Ret, []>,
  arg: Arg | undefined,
  what: string,
): Promise<Ret> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    return arg === undefined
      ? await handle.executeUpdate(update as UpdateDefinition<Ret, []>)
      : await handle.executeUpdate(update as UpdateDefinition<Ret, [Arg]>, { args: [arg] });
  } catch (err) {
    throw toApiError(err, what);
  }
}

function toApiError(err: unknown, what: string): unknown {
  // A finished workflow takes no more updates (the server says NOT_FOUND): the action simply came too late.
  if (err instanceof Error && /already completed/i.test(err.message)) {
    return conflict('invalid_transition', `This ${what.toLowerCase()} is already finished`);
  }
  if (err instanceof WorkflowNotFoundError) return notFound(what);
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === REFUSAL.wrongDriver) return forbidden(err.cause.message);
    if (err.cause.type === REFUSAL.invalidTransition) return conflict('invalid_transition', err.cause.message);
  }
  return err;
}
