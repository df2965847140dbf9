// Global setup for the whole run: the Temporal binaries and one workflow bundle every layer shares.
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { findTemporalCli, findTestServer } from '../../src/dev/temporal.js';
import { bundleWorkflowsToFile } from './bundle.js';
import './context.js';

export default async function setup(project: TestProject) {
  const config = loadConfig();
  const [testServerPath, temporalCliPath, workflowBundlePath] = await Promise.all([
    findTestServer(config),
    findTemporalCli(config),
    bundleWorkflowsToFile(),
  ]);
  project.provide('testServerPath', testServerPath);
  project.provide('temporalCliPath', temporalCliPath);
  project.provide('workflowBundlePath', workflowBundlePath);
}
