// The orders bench's baseline worker, a process of its own like the product's worker: the bare workflow of an
// order's shape on its own task queue, with activities that do nothing.
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../../src/config.js';
import { temporalDataConverter } from '../../src/temporal.js';
import { BASELINE_TASK_QUEUE } from './baseline.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const { code } = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('./baseline.ts', import.meta.url)),
  logger: new DefaultLogger('ERROR'),
});
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
const worker = await Worker.create({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: BASELINE_TASK_QUEUE,
  workflowBundle: { code },
  // Encrypted like the product's payloads, so the comparison carries the same codec.
  dataConverter: temporalDataConverter(loadConfig()),
  activities: { async noop() {} },
});
process.stdout.write(`${JSON.stringify({ ready: true, taskQueue: BASELINE_TASK_QUEUE })}\n`);
await worker.run();
await connection.close();
