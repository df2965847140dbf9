// The servers every bench runs on: a Temporal dev server and Postgres on free ports in a temporary folder, and the
// configuration that points at them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { freePort } from '../../src/dev/ports.js';
import { startInfrastructure, type Infrastructure } from '../../src/dev/stack.js';

export interface BenchInfrastructure {
  infra: Infrastructure;
  config: Config;
  /** The Postgres server's own process (its backends are under it), for CPU readings of its tree. */
  postgresPid(): number;
  /** Stops the servers and removes their folder. */
  stop(): Promise<void>;
}

export async function startBenchInfrastructure(): Promise<BenchInfrastructure> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-'));
  // Postgres runs as its own unprivileged user when we are root, and must reach its data directory.
  fs.chmodSync(dir, 0o755);
  const base = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '', LOG_LEVEL: 'error' });
  const infra = await startInfrastructure({
    config: base,
    pgDataDir: path.join(dir, 'pg'),
    pgPort: await freePort(),
    temporalPort: await freePort(),
    logDir: dir,
  });
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: infra.databaseUrl,
    TEMPORAL_ADDRESS: infra.temporalAddress,
    LOG_LEVEL: 'error',
  });
  return {
    infra,
    config,
    // The postmaster writes its pid on the first line of postmaster.pid in its data directory.
    postgresPid: () => Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]),
    async stop() {
      await infra.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
