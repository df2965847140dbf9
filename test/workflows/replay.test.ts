// The determinism guard: the recorded history of every scenario replays against today's workflow bundle, through the
// payload codec as the worker runs it (histories recorded before encryption pass through it), and a changed command
// in the order workflow is caught as non-determinism.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { workflowSpanSinks } from '../../src/telemetry/temporal.js';
import { loadConfig } from '../../src/config.js';
import { temporalDataConverter } from '../../src/temporal.js';
import { historiesDir } from '../support/histories.js';
import '../support/context.js';

/** Every recorded scenario, by fixture name: a missing or stray fixture fails the first test. */
const SCENARIOS = [
  'completed',
  'delivery',
  'out_of_stock',
  'slot_full',
  'insufficient_funds',
  'declined',
  'payment_timeout',
  'cancelled_before_payment',
  'cancelled_after_payment',
  'operator_cancelled',
  'operator_cancelled_in_delivery',
  'reconcile',
  'slot',
  'collected',
  'counter',
];

const dataConverter = temporalDataConverter(loadConfig({}));

const load = (name: string) =>
  historyFromJSON(JSON.parse(fs.readFileSync(path.join(historiesDir, `${name}.json`), 'utf8')));

describe('recorded workflow histories', () => {
  it('are exactly the listed scenarios', () => {
    const files = fs
      .readdirSync(historiesDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => path.basename(f, '.json'));
    expect(files.sort()).toEqual([...SCENARIOS].sort());
  });

  for (const name of SCENARIOS) {
    it(`replay ${name} against today's workflows`, async () => {
      await Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') }, sinks: workflowSpanSinks(), dataConverter },
        load(name),
        name,
      );
    });
  }
});

describe('a non-deterministic change to the order workflow', () => {
  let altered: string;

  beforeAll(async () => {
    const workflowsPath = fileURLToPath(new URL('./altered/index.ts', import.meta.url));
    ({ code: altered } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') }));
  });

  for (const name of ['completed', 'payment_timeout']) {
    it(`fails to replay ${name}`, async () => {
      await expect(Worker.runReplayHistory({ workflowBundle: { code: altered } }, load(name), name)).rejects.toThrow(
        DeterminismViolationError,
      );
    });
  }
});
