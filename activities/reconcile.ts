// Orders whose workflow ended without finishing them: an operator terminated it, or it failed or timed out. No
// compensation ran, so their stock, slot capacity and charge would stay held for ever. The sweep gives them back
// with the same idempotent steps the workflow's own compensation takes, and records the order as cancelled.
import { Context, heartbeat } from '@temporalio/activity';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { Knex } from 'knex';
import { Counter, register } from 'prom-client';
import type { BankClient } from '../src/bank/client.js';
import { createRepositories } from '../src/db/repositories/index.js';
import { timeBankRequest } from '../src/metrics/bank.js';
import { TERMINAL_STATUSES } from '../workflows/messages.js';
import { logOrder } from './log.js';
import { chargeKey } from './payments.js';

/** Closed without running the workflow's compensation; a cancelled, completed or continued run compensated itself or goes on. */
const ENDED_UNFINISHED: readonly WorkflowExecutionStatusName[] = ['TERMINATED', 'FAILED', 'TIMED_OUT'];

// Module-level, so the worker process has one, however many activity sets it builds; served with the bank latency.
const reconciled = new Counter({
  name: 'orders_reconciled_total',
  help: 'Orders the reconcile sweep compensated because their workflow ended unfinished, by how it ended (TERMINATED, FAILED, TIMED_OUT)',
  labelNames: ['workflow_status'] as const,
  registers: [register],
});

export interface ReconcileInput {
  /** How long after its workflow closed an order is left alone, so an operator can still reset it. */
  graceMs: number;
  /** How far back to look for closed workflows; older ones were handled by earlier sweeps. */
  lookbackMs: number;
}

export interface ReconcileResult {
  /** Workflows the visibility query returned. */
  examined: number;
  /** Orders this sweep compensated and recorded as cancelled. */
  compensated: string[];
}

/** The steps of the workflow's compensation; each is safe to repeat. */
export interface CompensationSteps {
  voidCharge(input: { chargeId: string }): Promise<void>;
  releaseStock(orderId: string): Promise<void>;
  releaseSlot(input: { orderId: string }): Promise<void>;
  recordOrderStatus(change: { orderId: string; status: 'cancelled'; reason: 'workflow_ended' }): Promise<void>;
}

/** The visibility query for order workflows that closed unfinished between `from` and `to`. */
export function endedOrdersQuery(from: Date, to: Date): string {
  return (
    `WorkflowType = 'orderWorkflow' AND ExecutionStatus IN ('Terminated', 'Failed', 'TimedOut') ` +
    `AND CloseTime > '${from.toISOString()}' AND CloseTime <= '${to.toISOString()}'`
  );
}

export function createReconcileActivities(db: Knex, bank: BankClient, steps: CompensationSteps) {
  const { orders } = createRepositories(db);
  /** Voids the order's charge (refunds it when captured), finding it at the bank when the read model never learnt its id. */
  async function undoCharge(orderId: string, chargeId: string | null): Promise<void> {
    const id = chargeId ?? (await timeBankRequest('findCharge', () => bank.findCharge(chargeKey(orderId))))?.id;
    if (id) await steps.voidCharge({ chargeId: id });
  }

  return {
    async reconcileEndedOrders(input: ReconcileInput): Promise<ReconcileResult> {
      const { client } = Context.current();
      const now = Date.now();
      const query = endedOrdersQuery(new Date(now - input.lookbackMs), new Date(now - input.graceMs));
      const result: ReconcileResult = { examined: 0, compensated: [] };
      for await (const execution of client.workflow.list({ query })) {
        heartbeat(result.examined);
        result.examined++;
        // The read model first: orders an earlier sweep already cancelled stay in the list for the whole lookback.
        const orderId = execution.workflowId.replace(/^order-/, '');
        const order = await orders.findStatus(orderId);
        if (!order || TERMINAL_STATUSES.includes(order.status)) continue;
        // Visibility lists every run; the order's latest run is the one that counts (a reset starts a new run that carries on).
        const latest = await client.workflow.getHandle(execution.workflowId).describe();
        if (!ENDED_UNFINISHED.includes(latest.status.name)) continue;

        // The workflow's compensation order: the charge, then the slot, then the stock; units already picked up stay sold.
        await undoCharge(orderId, order.chargeId);
        await steps.releaseSlot({ orderId });
        await steps.releaseStock(orderId);
        await steps.recordOrderStatus({ orderId, status: 'cancelled', reason: 'workflow_ended' });
        logOrder('warn', orderId, 'order compensated after its workflow ended unfinished', {
          workflowStatus: latest.status.name,
          previousStatus: order.status,
        });
        reconciled.inc({ workflow_status: latest.status.name });
        result.compensated.push(orderId);
      }
      return result;
    },
  };
}
