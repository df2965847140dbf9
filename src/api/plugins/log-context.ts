// Puts the order a request is about (orderId, workflowId) on every log line of that request, so one grep follows an order.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// A delivery's id is its order's id; its workflow is `delivery-<id>`.
const ORDER_ROUTE = /^\/v1\/(orders|deliveries)\/:id(\/|$)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Binding twice would print the keys twice on every line.
const bound = new WeakMap<FastifyRequest, string>();

/** From here on, the request's and the reply's log lines (including "request completed") carry the order. */
export function logOrderOf(
  request: FastifyRequest,
  reply: FastifyReply,
  orderId: string,
  workflowId = `order-${orderId}`,
): void {
  if (bound.get(request) === workflowId) return;
  bound.set(request, workflowId);
  const log = request.log.child({ orderId, workflowId });
  request.log = log;
  reply.log = log;
}

export default fp(
  async (app: FastifyInstance) => {
    // onRequest, so even an authentication failure on an order's URL is logged with the order.
    app.addHook('onRequest', async (request, reply) => {
      const match = ORDER_ROUTE.exec(request.routeOptions.url ?? '');
      const id = (request.params as { id?: unknown } | undefined)?.id;
      // Params are not validated yet: only a well-formed id goes into the logs.
      if (!match || typeof id !== 'string' || !UUID.test(id)) return;
      logOrderOf(request, reply, id, match[1] === 'orders' ? `order-${id}` : `delivery-${id}`);
    });
  },
  { name: 'log-context' },
);
