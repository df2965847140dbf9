// Bundles the workflow code once per test run and shares it with every worker through a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../src/telemetry/workflow-interceptors.js';
import { FAILURE_CONVERTER_PATH } from '../../src/payload-codec.js';

// Not imported from src/worker.ts: each project's global setup loads its modules afresh in the one main process, and
// the worker's modules register process-wide metrics that must exist once.
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

export async function bundleWorkflowsToFile(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-bundle-')), 'workflows.js');
  fs.writeFileSync(file, code);
  return file;
}
