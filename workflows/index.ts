// Every workflow the worker registers.
export { orderWorkflow } from './order.js';
export { deliveryWorkflow } from './delivery.js';
export { slotWorkflow, slotPlannerWorkflow } from './slot.js';
export { orderReconcileWorkflow } from './reconcile.js';
export { lotWorkflow, productionRunWorkflow, endOfDayWorkflow, staleSweepWorkflow } from './lot.js';
export { webhookDeliveryWorkflow } from './webhook-delivery.js';
export { eventPartitionsWorkflow } from './event-partitions.js';
