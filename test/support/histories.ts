// Records workflow histories of integration runs as replay fixtures, when RECORD_HISTORIES=1.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { WorkflowClient } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { inject } from 'vitest';
import './context.js';

export const historiesDir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));

const recording = () => process.env.RECORD_HISTORIES === '1';

/** Writes the history of `workflowId` as the fixture `name`, when RECORD_HISTORIES=1: for runs on the time-skipping server. */
export async function recordHistory(client: WorkflowClient, name: string, workflowId: string): Promise<void> {
  if (!recording()) return;
  fs.mkdirSync(historiesDir, { recursive: true });
  const history = await client.getHandle(workflowId).fetchHistory();
  fs.writeFileSync(path.join(historiesDir, `${name}.json`), historyToJSON(history));
}

/** Collects the workflows of an integration run whose histories become fixtures, written at the end by the CLI. */
export function historyRecorder() {
  const wanted = new Map<string, string>();
  return {
    /** Remembers that the history of `workflowId` shows the path `name`. */
    keep(name: string, workflowId: string): void {
      wanted.set(name, workflowId);
    },
    async writeAll(): Promise<void> {
      if (!recording()) return;
      fs.mkdirSync(historiesDir, { recursive: true });
      for (const [name, workflowId] of wanted) {
        // The CLI writes the history in the JSON form the replayer reads.
        const { stdout } = await promisify(execFile)(
          inject('temporalCliPath'),
          ['workflow', 'show', '--address', inject('temporalAddress'), '--workflow-id', workflowId, '--output', 'json'],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        fs.writeFileSync(path.join(historiesDir, `${name}.json`), stdout);
      }
    },
  };
}
