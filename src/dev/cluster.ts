// `npm run cluster`: the production topology on one machine without Docker, with demo data. The real Temporal server
// (frontend, matching, worker and two history processes) on Postgres with a streaming replica, two API replicas, two
// worker replicas and the bank.
import fs from 'node:fs';
import path from 'node:path';
import { createBankClient } from '../bank/client.js';
import { loadConfig } from '../config.js';
import { createDb } from '../db/knex.js';
import { createSlotRepository } from '../db/repositories/slots.js';
import { loadOrCreateDemoData, seedDemo } from '../db/seed.js';
import { ensureDemoBankAccounts } from './bank-accounts.js';
import { demoGuide } from './demo-guide.js';
import { isStreaming } from './cluster-postgres.js';
import { startCluster, type Cluster } from './cluster-stack.js';
import { assertPortFree } from './ports.js';
import {
  TEMPORAL_CONFIG_TEMPLATE,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
} from './temporal-server-install.js';

const startedAt = Date.now();
const config = loadConfig();
const dir = path.join(config.rootDir, '.cluster');
fs.mkdirSync(dir, { recursive: true });
const say = (message: string) => console.log(`[cluster] ${message}`);
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
const historyShards = Number(process.env.NUM_HISTORY_SHARDS ?? 8);

let cluster: Cluster | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say('stopping…');
  await cluster?.stop();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  if (!Number.isInteger(historyShards) || historyShards < 1)
    throw new Error(`NUM_HISTORY_SHARDS=${process.env.NUM_HISTORY_SHARDS} is not a positive whole number`);
  const ports = {
    api: [config.port, config.port + 1] as [number, number],
    bank: config.bank.port,
    temporal: config.temporal.devPort,
    pgPrimary: config.pgPort,
    pgReplica: config.pgPort + 1,
  };
  await assertPortFree(ports.api[0], 'PORT', 'API replica 1');
  await assertPortFree(ports.api[1], 'PORT', 'API replica 2 (PORT + 1)');
  await assertPortFree(ports.bank, 'BANK_PORT', 'the bank');
  await assertPortFree(ports.temporal, 'TEMPORAL_PORT', 'the Temporal frontend');
  say(`data and logs in ${dir}`);
  const demo = loadOrCreateDemoData(path.join(dir, 'demo.json'));
  let productIds: string[] = [];
  // The demo data goes in before the workers start: their slot planner creates the demo slots from its templates.
  const seed = async (databaseUrl: string) => {
    const db = createDb(databaseUrl, { max: 2 });
    try {
      productIds = await seedDemo(db, demo);
    } finally {
      await db.destroy();
    }
  };
  cluster = await startCluster({ config, dir, ports, historyShards, log: say, beforeApps: seed });
  for (const name of ['api-1', 'api-2', 'worker-1', 'worker-2', 'bank'] as const) {
    void cluster.process(name).exited.then((code) => {
      if (!stopping) say(`${name} exited (code ${code}); see ${path.join(cluster!.logDir, `${name}.log`)}`);
    });
  }
  const db = createDb(cluster.databaseUrl, { max: 2 });
  let demoSlotId: string | undefined;
  try {
    await ensureDemoBankAccounts(db, createBankClient(cluster.bankUrl, { apiKey: config.bank.apiKey }), demo);
    for (let i = 0; i < 100 && !demoSlotId; i++) {
      demoSlotId = await createSlotRepository(db).firstOpen(demo.locationId, new Date());
      if (!demoSlotId) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await db.destroy();
  }
  for (const url of cluster.apiUrls) {
    const readyz = await fetch(`${url}/readyz`);
    if (!readyz.ok) throw new Error(`the API on ${url} is up but not ready: ${await readyz.text()}`);
  }
  const streaming = await isStreaming(cluster.readDatabaseUrl.replace(/\/app$/, '')).catch(() => false);

  const [api1, api2] = cluster.apiUrls;
  const logs = (name: string) => path.join(cluster!.logDir, `${name}.log`);
  console.log(`
Cluster ready in ${elapsed()}.

  API replica 1    ${api1}   (docs ${api1}/docs, customer page ${api1}/order, owner page ${api1}/owner)
  API replica 2    ${api2}
  Bank             ${cluster.bankUrl}
  Workers          worker-1 metrics ${cluster.workerMetrics['worker-1']!.app}, worker-2 metrics ${cluster.workerMetrics['worker-2']!.app}
  Temporal         ${cluster.temporalAddress} (server ${TEMPORAL_SERVER_VERSION}: frontend, matching, worker, history-1, history-2; ${cluster.historyShards} history shards; HTTP API ${cluster.temporalHttpUrl})
                   temporal operator cluster health --address ${cluster.temporalAddress}
  Temporal Web UI  not part of this topology (docker compose runs temporal-ui); use the temporal CLI
  Postgres         primary ${cluster.databaseUrl}
                   replica ${cluster.readDatabaseUrl} (${streaming ? 'streaming' : 'NOT streaming'}; DATABASE_READ_URL of the API replicas)
                   Temporal's databases temporal and temporal_visibility on the primary; the bank's ${cluster.bankDatabaseUrl}
  Server config    ${TEMPORAL_CONFIG_TEMPLATE} and ${TEMPORAL_DYNAMIC_CONFIG} (shared with docker-compose.yml)
  Logs             ${cluster.logDir} (${logs('api-1')}, ${logs('temporal-history-1')}, …)
${demoGuide({ demo, demoFile: path.join(dir, 'demo.json'), apiUrl: api2, slotId: demoSlotId, productIds })}`);
} catch (err) {
  console.error(`\n[cluster] failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
