// `npm run bench -- orders --target cluster`: the production topology of `npm run cluster` (Postgres with a streaming
// replica, the Temporal server as separate services, two API replicas, two worker replicas, the bank) in the shape
// the orders bench drives. Virtual customers take turns across the API replicas, as behind a load balancer; each
// process's CPU is read on its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { CHAOS_APP_ENV, clusterPorts } from '../chaos.js';
import { createBankClient } from '../../src/bank/client.js';
import { DEV_BANK_API_KEY, loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import { APP_PROCESSES, startCluster } from '../../src/dev/cluster-stack.js';
import { spawnTs, type TsChild } from '../../src/dev/processes.js';
import { TEMPORAL_SERVICES } from '../../src/dev/temporal-cluster.js';
import { temporalClient } from '../../src/temporal.js';
import type { ProcessStack } from './process-stack.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ClusterTarget extends ProcessStack {
  /** Every API replica; customer n uses baseUrls[n % length]. */
  baseUrls: string[];
  /** Our processes by name, each a role of its own in the CPU figures. */
  ourRoles: string[];
  /** The Temporal services, for the baseline's figures beside its worker. */
  temporalRoles: string[];
}

export async function startClusterTarget(opts: { log: (m: string) => void }): Promise<ClusterTarget> {
  const base = loadConfig({ ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-cluster-'));
  const cluster = await startCluster({
    config: base,
    dir,
    ports: await clusterPorts(),
    historyShards: 8,
    // Many orders from one machine: rate limits are not what is measured.
    env: { ...CHAOS_APP_ENV, LOG_LEVEL: 'warn' },
    log: opts.log,
  });
  const db = createDb(cluster.databaseUrl, { max: 5 });
  const connection = await Connection.connect({ address: cluster.temporalAddress });
  const extra: TsChild[] = [];
  // The Temporal services as temporal-<service>: the server has a service named worker too.
  const processNames = [...APP_PROCESSES, 'postgres-primary', 'postgres-replica', ...TEMPORAL_SERVICES] as const;
  const role = (name: (typeof processNames)[number]) =>
    (TEMPORAL_SERVICES as readonly string[]).includes(name) ? `temporal-${name}` : name;
  const roots = Object.fromEntries(processNames.map((name) => [role(name), cluster.process(name).process.pid!]));
  return {
    db,
    baseUrl: cluster.apiUrls[0],
    baseUrls: [...cluster.apiUrls],
    bank: createBankClient(cluster.bankUrl, { apiKey: DEV_BANK_API_KEY }),
    client: temporalClient(base, connection),
    temporalAddress: cluster.temporalAddress,
    roots,
    ourRoles: processNames.map(role),
    temporalRoles: TEMPORAL_SERVICES.map(role),
    dir,
    async spawn(name: string, entry: string, env: NodeJS.ProcessEnv = {}) {
      const child = spawnTs(name, path.join(root, entry), {
        env: {
          ...process.env,
          DATABASE_URL: cluster.databaseUrl,
          TEMPORAL_ADDRESS: cluster.temporalAddress,
          LOG_LEVEL: 'warn',
          ...env,
        },
        logFile: path.join(dir, `${name}.log`),
      });
      extra.push(child);
      await child.ready(180_000);
      return child;
    },
    async stop() {
      await Promise.all(extra.map((child) => child.stop()));
      await connection.close();
      await db.destroy();
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
