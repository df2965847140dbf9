// Global setup for the layers that run Temporal (workflows, integration, e2e, chaos): the pinned Temporal binaries,
// installed on first use, and one workflow bundle. Done once per run however many of those layers run; the unit
// layer needs none of it.
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { findTemporalCli, findTestServer } from '../../src/dev/temporal.js';
import { bundleWorkflowsToFile } from './bundle.js';
import './context.js';

interface Prepared {
  testServerPath: string;
  temporalCliPath: string;
  workflowBundlePath: string;
}

// Every project loads this module on its own, in the one main process: the promise is kept where all of them see it.
const shared = globalThis as typeof globalThis & { temporalTestSetup?: Promise<Prepared> };

function prepare(): Promise<Prepared> {
  const config = loadConfig();
  const log = (message: string) => console.error(`[test setup] ${message}`);
  return Promise.all([findTestServer(config, log), findTemporalCli(config, log), bundleWorkflowsToFile()]).then(
    ([testServerPath, temporalCliPath, workflowBundlePath]) => ({
      testServerPath,
      temporalCliPath,
      workflowBundlePath,
    }),
  );
}

export default async function setup(project: TestProject) {
  const prepared = await (shared.temporalTestSetup ??= prepare());
  project.provide('testServerPath', prepared.testServerPath);
  project.provide('temporalCliPath', prepared.temporalCliPath);
  project.provide('workflowBundlePath', prepared.workflowBundlePath);
}
