// Global setup for integration tests: a real Temporal dev server and real Postgres on free ports, migrated.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { startInfrastructure } from '../../src/dev/stack.js';
import { freePort } from '../../src/dev/ports.js';
import './context.js';

export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-it-'));
  // Postgres runs as its own unprivileged user when we are root, and must reach its data directory.
  fs.chmodSync(dir, 0o755);
  // The harness always starts its own servers, even when the environment names others.
  const config = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' });
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const infra = await startInfrastructure({
    config,
    pgDataDir: path.join(dir, 'pg'),
    pgPort,
    temporalPort,
    logDir: dir,
  });
  project.provide('databaseUrl', infra.databaseUrl);
  project.provide('bankDatabaseUrl', infra.bankDatabaseUrl);
  project.provide('temporalAddress', infra.temporalAddress);
  return async () => {
    await infra.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
