// The determinism guard: recorded histories of every order path (and the reconcile sweep) replay against today's workflow code.
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { historiesDir } from '../support/histories.js';
import '../support/context.js';

const files = fs.existsSync(historiesDir) ? fs.readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort() : [];

describe('recorded workflow histories', () => {
  it('exist for the paths of the order saga', () => {
    expect(files.map((f) => path.basename(f, '.json'))).toEqual(
      expect.arrayContaining(['completed', 'delivery', 'out_of_stock', 'slot_full', 'insufficient_funds', 'declined', 'payment_timeout', 'cancelled_before_payment', 'cancelled_after_payment', 'operator_cancelled', 'operator_cancelled_in_delivery', 'reconcile']),
    );
  });

  it('replay without a non-determinism error', async () => {
    const histories = files.map((file) => ({
      workflowId: path.basename(file, '.json'),
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8'))),
    }));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(histories.length).toBe(files.length);
  }, 60_000);
});
