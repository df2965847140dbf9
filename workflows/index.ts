// Every workflow the worker registers.
export { orderWorkflow } from './order.js';
