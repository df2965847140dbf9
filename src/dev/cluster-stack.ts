// The production topology on one machine, for `npm run cluster` and the cluster tests: Postgres with a streaming
// replica, the Temporal server as separate services, two API replicas, two worker replicas and the bank.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { Config } from '../config.js';
import { ensureDatabase, withDatabase, createDb } from '../db/knex.js';
import { migrateLatest } from '../db/migrate.js';
import {
  findDebianPostgres,
  startPrimary,
  startReplica,
  type DebianPostgres,
  type PostgresServer,
} from './cluster-postgres.js';
import { freePort } from './ports.js';
import { spawnTs, type Child } from './processes.js';
import { silent, type Log } from './temporal-install.js';
import { startTemporalCluster, type TemporalCluster, type TemporalServiceName } from './temporal-cluster.js';
import { findTemporalServer } from './temporal-server-install.js';
import { FAILURE_CONVERTER_PATH } from '../payload-codec.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const APP_PROCESSES = ['bank', 'worker-1', 'worker-2', 'api-1', 'api-2'] as const;
export type AppProcessName = (typeof APP_PROCESSES)[number];
export type ClusterProcessName = AppProcessName | TemporalServiceName | 'postgres-primary' | 'postgres-replica';

export interface ClusterPorts {
  api: [number, number];
  bank: number;
  temporal: number;
  pgPrimary: number;
  pgReplica: number;
}

export interface ClusterOptions {
  config: Config;
  /** Data directories, the workflow bundle and logs (in logs/). */
  dir: string;
  ports: ClusterPorts;
  historyShards: number;
  /** Added to the environment of the API, worker and bank processes. */
  env?: NodeJS.ProcessEnv;
  /** Runs once the database is migrated, before any API or worker starts (demo data, for one). */
  beforeApps?: (databaseUrl: string) => Promise<void>;
  log?: Log;
}

export interface Cluster {
  databaseUrl: string;
  /** The streaming replica's copy of the application database, for reads. */
  readDatabaseUrl: string;
  bankDatabaseUrl: string;
  temporalAddress: string;
  temporalHttpUrl: string;
  historyShards: number;
  apiUrls: [string, string];
  bankUrl: string;
  logDir: string;
  pgVersion: string;
  /** Where each worker replica serves its metrics. */
  workerMetrics: Record<string, { sdk: string; app: string }>;
  process(name: ClusterProcessName): Child;
  /** SIGKILL, as a crash or an OOM kill would. */
  kill(name: ClusterProcessName): Promise<void>;
  /** Starts a stopped or killed process again and waits until it is ready. */
  start(name: ClusterProcessName): Promise<void>;
  /** A graceful stop (SIGTERM), then a start. */
  restart(name: ClusterProcessName): Promise<void>;
  stop(): Promise<void>;
}

/** Bundles the workflow code once, so the two worker replicas start without bundling it each. */
async function bundleWorkflows(file: string): Promise<void> {
  const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  fs.writeFileSync(file, code);
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const { config, dir, ports } = opts;
  const log = opts.log ?? silent;
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  // Postgres runs as its own user when we are root, and must reach its data directories.
  fs.chmodSync(dir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };

  try {
    const bundleFile = path.join(dir, 'workflow-bundle.js');
    const [binaries, pgInstall] = await Promise.all([
      findTemporalServer(config, log),
      findDebianPostgres(log),
      bundleWorkflows(bundleFile),
    ]);

    const postgres: Record<'primary' | 'replica', PostgresServer | undefined> = {
      primary: undefined,
      replica: undefined,
    };
    const startPostgres = async (which: 'primary' | 'replica', pgi: DebianPostgres) => {
      postgres[which] =
        which === 'primary'
          ? await startPrimary({
              pgInstall: pgi,
              dataDir: path.join(dir, 'pg-primary'),
              port: ports.pgPrimary,
              logFile: path.join(logDir, 'postgres-primary.log'),
              log,
            })
          : await startReplica({
              pgInstall: pgi,
              primary: postgres.primary!,
              dataDir: path.join(dir, 'pg-replica'),
              port: ports.pgReplica,
              logFile: path.join(logDir, 'postgres-replica.log'),
              log,
            });
    };
    await startPostgres('primary', pgInstall);
    stops.push(() => postgres.primary!.child.stop());
    const serverUrl = postgres.primary!.url;
    for (const name of ['app', 'bank']) await ensureDatabase(`${serverUrl}/postgres`, name);
    const databaseUrl = `${serverUrl}/app`;
    const db = createDb(databaseUrl, { max: 2 });
    try {
      const applied = await migrateLatest(db);
      if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
    } finally {
      await db.destroy();
    }
    await opts.beforeApps?.(databaseUrl);
    // The replica copies the primary after the migrations, then streams whatever follows.
    const [, temporal] = await Promise.all([
      startPostgres('replica', pgInstall).then(() => stops.push(() => postgres.replica!.child.stop())),
      startTemporalCluster({
        binaries,
        postgres: { host: '127.0.0.1', port: ports.pgPrimary, user: 'postgres', password: 'postgres' },
        frontendPort: ports.temporal,
        historyShards: opts.historyShards,
        namespace: config.temporal.namespace,
        logDir,
        log,
      }).then((cluster: TemporalCluster) => {
        stops.push(() => cluster.stop());
        return cluster;
      }),
    ]);
    const readDatabaseUrl = `${postgres.replica!.url}/app`;
    const bankDatabaseUrl = withDatabase(databaseUrl, 'bank');
    const apiUrls: [string, string] = [`http://127.0.0.1:${ports.api[0]}`, `http://127.0.0.1:${ports.api[1]}`];
    const bankUrl = `http://127.0.0.1:${ports.bank}`;

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      DATABASE_READ_URL: readDatabaseUrl,
      BANK_DATABASE_URL: bankDatabaseUrl,
      TEMPORAL_ADDRESS: temporal.address,
      BANK_URL: bankUrl,
      WORKFLOW_BUNDLE: bundleFile,
      // Replicas share one rate-limit budget per customer, as behind a load balancer.
      RATE_LIMIT_STORE: 'postgres',
      ...opts.env,
    };
    const workerMetrics: Cluster['workerMetrics'] = {};
    const appEnv: Record<AppProcessName, NodeJS.ProcessEnv> = {
      // No load balancer here: the bank takes turns across the replicas and fails over between them.
      bank: {
        ...env,
        BANK_PORT: String(ports.bank),
        WEBHOOK_URL: apiUrls.map((url) => `${url}/v1/webhooks/bank`).join(','),
      },
      'api-1': { ...env, PORT: String(ports.api[0]) },
      'api-2': { ...env, PORT: String(ports.api[1]) },
      'worker-1': env,
      'worker-2': env,
    };
    for (const name of ['worker-1', 'worker-2'] as const) {
      const [sdk, app] = [await freePort(), await freePort()];
      appEnv[name] = { ...env, WORKER_METRICS_PORT: String(sdk), WORKER_APP_METRICS_PORT: String(app) };
      workerMetrics[name] = { sdk: `http://127.0.0.1:${sdk}/metrics`, app: `http://127.0.0.1:${app}/metrics` };
    }
    const entries: Record<AppProcessName, string> = {
      bank: 'src/bank/server.ts',
      'worker-1': 'workers/main.ts',
      'worker-2': 'workers/main.ts',
      'api-1': 'src/server.ts',
      'api-2': 'src/server.ts',
    };
    const apps = {} as Record<AppProcessName, Child>;
    const startApp = async (name: AppProcessName) => {
      const child = spawnTs(name, path.join(root, entries[name]), {
        env: appEnv[name],
        logFile: path.join(logDir, `${name}.log`),
      });
      apps[name] = child;
      await child.ready(120_000);
    };
    // The apps stop first, front to back: the APIs stop taking requests, the workers finish, then the bank.
    stops.push(async () => {
      for (const name of [...APP_PROCESSES].reverse()) await apps[name]?.stop();
    });
    await Promise.all(APP_PROCESSES.map(startApp));

    const isApp = (name: ClusterProcessName): name is AppProcessName =>
      (APP_PROCESSES as readonly string[]).includes(name);
    const processOf = (name: ClusterProcessName): Child => {
      if (isApp(name)) return apps[name];
      if (name === 'postgres-primary' || name === 'postgres-replica')
        return postgres[name === 'postgres-primary' ? 'primary' : 'replica']!.child;
      return temporal.processes[name];
    };
    const start = async (name: ClusterProcessName) => {
      if (isApp(name)) return startApp(name);
      if (name === 'postgres-primary' || name === 'postgres-replica')
        return startPostgres(name === 'postgres-primary' ? 'primary' : 'replica', pgInstall);
      temporal.start(name);
    };
    const kill = async (name: ClusterProcessName) => {
      const child = processOf(name);
      try {
        process.kill(-child.process.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await child.exited;
    };

    return {
      databaseUrl,
      readDatabaseUrl,
      bankDatabaseUrl,
      temporalAddress: temporal.address,
      temporalHttpUrl: temporal.httpUrl,
      historyShards: temporal.historyShards,
      apiUrls,
      bankUrl,
      logDir,
      pgVersion: pgInstall.version,
      workerMetrics,
      process: processOf,
      kill,
      start,
      async restart(name) {
        await processOf(name).stop();
        await start(name);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
