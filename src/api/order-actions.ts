// The shop's steps on an order, one function each, so the owner's buttons and a kitchen system's signed messages move
// an order through the same workflow update and the same validators.
import type { FastifyInstance } from 'fastify';
import { collectUpdate, prepUpdate } from '../../workflows/messages.js';
import type { OrderView } from '../db/repositories/orders.js';
import { sendUpdate } from './workflow-updates.js';

/** Moves a paid order to prepping, or a prepping one to prepped; refused with 409 otherwise. Returns the order as it is now. */
export async function prepOrder(
  app: FastifyInstance,
  orderId: string,
  status: 'prepping' | 'prepped',
): Promise<OrderView> {
  await sendUpdate(app, 'order', orderId, prepUpdate, { status });
  return (await app.repos.orders.findView(orderId))!;
}

/** Hands a collection order that is ready to its customer: completed. Refused with 409 otherwise. */
export async function collectOrder(app: FastifyInstance, orderId: string): Promise<OrderView> {
  await sendUpdate(app, 'order', orderId, collectUpdate);
  return (await app.repos.orders.findView(orderId))!;
}
