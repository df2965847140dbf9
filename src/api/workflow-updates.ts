// Sends an update to an order's workflow (or its delivery's) and turns its refusals into the API's error shape.
import { SpanKind } from '@opentelemetry/api';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { REFUSAL } from '../../workflows/messages.js';
import { inContinuedSpan } from '../telemetry/context.js';
import { activeTracing } from '../telemetry/tracing.js';
import { conflict, forbidden, notFound } from './errors.js';

/** The traceparent each order was placed under, per app: it never changes once the order has one. */
const placementTraces = new WeakMap<FastifyInstance, LRUCache<string, string>>();

async function placementTraceparent(app: FastifyInstance, orderId: string): Promise<string | undefined> {
  let cache = placementTraces.get(app);
  if (!cache) placementTraces.set(app, (cache = new LRUCache({ max: 10_000 })));
  const cached = cache.get(orderId);
  if (cached !== undefined) return cached;
  // An order's later steps are five or six requests: read once, not once each.
  const traceparent = await app.repos.orders.findTraceparent(orderId);
  if (traceparent !== undefined) cache.set(orderId, traceparent);
  return traceparent;
}

/**
 * Sends `update` to order `orderId`'s workflow, or to its delivery's. While tracing is on, the update runs in the
 * order's own trace (the one its placement started), linked to the request that asked for it: an order is one trace
 * end to end.
 */
export async function sendUpdate<Ret, Arg>(
  app: FastifyInstance,
  workflow: 'order' | 'delivery',
  orderId: string,
  update: UpdateDefinition<Ret, [Arg]> | UpdateDefinition<Ret, []>,
  arg?: Arg,
): Promise<Ret> {
  const workflowId = `${workflow}-${orderId}`;
  const handle = app.temporal.workflow.getHandle(workflowId);
  const traceparent = activeTracing() ? await placementTraceparent(app, orderId) : undefined;
  try {
    return await inContinuedSpan(
      `${workflow} ${update.name}`,
      traceparent,
      { kind: SpanKind.INTERNAL, attributes: { orderId, workflowId } },
      () =>
        arg === undefined
          ? handle.executeUpdate(update as UpdateDefinition<Ret, []>)
          : handle.executeUpdate(update as UpdateDefinition<Ret, [Arg]>, { args: [arg] }),
    );
  } catch (err) {
    throw toApiError(err, workflow === 'order' ? 'Order' : 'Delivery');
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
