// Bundles the workflow code once per test run and shares it with every worker through a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from '../../src/worker.js';

export async function bundleWorkflowsToFile(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-bundle-')), 'workflows.js');
  fs.writeFileSync(file, code);
  return file;
}
