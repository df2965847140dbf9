// The real Temporal server as a cluster on this machine: frontend, matching, worker and two history processes, each
// `temporal-server start --service …` on the config template docker-compose.yml uses too, Postgres persistence and
// SQL visibility; the schema set up by the pinned SQL tool, our namespace and search attributes registered.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { SEARCH_ATTRIBUTES } from '../config.js';
import { ensureDatabase } from '../db/knex.js';
import { tableExists, tableHasRows } from '../db/server-checks.js';
import { freeLowPort } from './ports.js';
import { spawnBinary, type Child } from './processes.js';
import { INDEXED_VALUE_TYPES, probeTemporal } from './temporal.js';
import { errorMessage, run, silent, type Log } from './temporal-install.js';
import {
  TEMPORAL_CONFIG_TEMPLATE,
  TEMPORAL_DYNAMIC_CONFIG,
  type TemporalServerBinaries,
} from './temporal-server-install.js';

export const TEMPORAL_SERVICES = ['history-1', 'history-2', 'matching', 'frontend', 'worker'] as const;
export type TemporalServiceName = (typeof TEMPORAL_SERVICES)[number];

const DATABASES = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
];
const RETENTION_MS = 72 * 3_600_000;
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

export interface TemporalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface TemporalClusterOptions {
  binaries: TemporalServerBinaries;
  postgres: TemporalPostgres;
  frontendPort: number;
  historyShards: number;
  namespace: string;
  logDir: string;
  log?: Log;
}

export interface TemporalCluster {
  address: string;
  /** The frontend's HTTP API. */
  httpUrl: string;
  historyShards: number;
  /** The running process of each service. */
  processes: Record<TemporalServiceName, Child>;
  /** Starts a service again (after it was stopped or killed) with the same ports. */
  start(name: TemporalServiceName): Child;
  stop(): Promise<void>;
}

/** Creates the two databases and brings their schema to the version the SQL tool carries; safe to run again. */
export async function setupTemporalSchema(
  binaries: TemporalServerBinaries,
  postgres: TemporalPostgres,
  log: Log = silent,
): Promise<void> {
  const server = `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}`;
  for (const { name, schema } of DATABASES) {
    await ensureDatabase(`${server}/postgres`, name);
    const fresh = !(await tableExists(`${server}/${name}`, 'public.schema_version'));
    const tool = (...args: string[]) =>
      run(
        binaries.sqlTool,
        [
          '--plugin',
          'postgres12',
          '--ep',
          postgres.host,
          '-p',
          String(postgres.port),
          '-u',
          postgres.user,
          '--pw',
          postgres.password,
          '--db',
          name,
          ...args,
        ],
        { quiet: true },
      );
    if (fresh) {
      log(`Setting up the ${name} schema with temporal-sql-tool`);
      await tool('setup-schema', '-v', '0.0');
    }
    await tool('update-schema', '--schema-name', schema);
  }
}

export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = opts.log ?? silent;
  await setupTemporalSchema(opts.binaries, opts.postgres, log);
  // Only the frontend's gRPC port is public; the rest are found through the membership table in Postgres.
  const ports: Record<string, string> = {
    FRONTEND_GRPC_PORT: String(opts.frontendPort),
    FRONTEND_HTTP_PORT: String(await freeLowPort()),
    FRONTEND_MEMBERSHIP_PORT: String(await freeLowPort()),
    MATCHING_GRPC_PORT: String(await freeLowPort()),
    MATCHING_MEMBERSHIP_PORT: String(await freeLowPort()),
    WORKER_GRPC_PORT: String(await freeLowPort()),
    WORKER_MEMBERSHIP_PORT: String(await freeLowPort()),
  };
  const historyPorts: Record<string, Record<string, string>> = {};
  for (const name of ['history-1', 'history-2'])
    historyPorts[name] = {
      HISTORY_GRPC_PORT: String(await freeLowPort()),
      HISTORY_MEMBERSHIP_PORT: String(await freeLowPort()),
    };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEMPORAL_LOG_LEVEL: 'warn',
    NUM_HISTORY_SHARDS: String(opts.historyShards),
    POSTGRES_SEEDS: opts.postgres.host,
    DB_PORT: String(opts.postgres.port),
    POSTGRES_USER: opts.postgres.user,
    POSTGRES_PWD: opts.postgres.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: TEMPORAL_DYNAMIC_CONFIG,
    ...ports,
  };
  const start = (name: TemporalServiceName): Child => {
    const service = name.startsWith('history') ? 'history' : name;
    const child = spawnBinary(
      `temporal-${name}`,
      opts.binaries.server,
      ['--config-file', TEMPORAL_CONFIG_TEMPLATE, '--allow-no-auth', 'start', '--service', service],
      {
        env: { ...env, ...(historyPorts[name] ?? historyPorts['history-1']) },
        logFile: path.join(opts.logDir, `temporal-${name}.log`),
      },
    );
    processes[name] = child;
    return child;
  };
  const processes = {} as Record<TemporalServiceName, Child>;
  // The first service to start writes the cluster's metadata; several at once on a fresh database race for it.
  start('history-1');
  try {
    await waitForClusterMetadata(opts.postgres, processes['history-1'], opts.logDir);
  } catch (err) {
    await processes['history-1'].stop();
    throw err;
  }
  for (const name of TEMPORAL_SERVICES) if (name !== 'history-1') start(name);
  const stop = async () => {
    // Front to back, so no service waits on one already gone.
    for (const name of ['frontend', 'worker', 'matching', 'history-1', 'history-2'] as const)
      await processes[name].stop();
  };
  const address = `127.0.0.1:${opts.frontendPort}`;
  try {
    await waitUntilServing(address, opts.namespace, processes, opts.logDir, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    httpUrl: `http://127.0.0.1:${ports.FRONTEND_HTTP_PORT}`,
    historyShards: opts.historyShards,
    processes,
    start,
    stop,
  };
}

async function waitForClusterMetadata(postgres: TemporalPostgres, first: Child, logDir: string): Promise<void> {
  const url = `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}/temporal`;
  let exited: number | null | undefined;
  void first.exited.then((code) => (exited = code));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined)
      throw new Error(`${first.name} exited with code ${exited}; see ${path.join(logDir, `${first.name}.log`)}`);
    if (await tableHasRows(url, 'cluster_metadata_info')) return;
    if (Date.now() > deadline) throw new Error(`${first.name} wrote no cluster metadata within 60s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits for the frontend, registers the namespace and search attributes, then waits until history owns every shard. */
async function waitUntilServing(
  address: string,
  namespace: string,
  processes: Record<TemporalServiceName, Child>,
  logDir: string,
  log: Log,
  timeoutMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  const exitedEarly = new Map<string, number | null>();
  for (const child of Object.values(processes)) void child.exited.then((code) => exitedEarly.set(child.name, code));
  for (;;) {
    const [gone] = [...exitedEarly.entries()];
    if (gone) throw new Error(`${gone[0]} exited with code ${gone[1]}; see ${path.join(logDir, `${gone[0]}.log`)}`);
    if (Date.now() > deadline)
      throw new Error(`the Temporal cluster on ${address} was not ready after ${timeoutMs / 1000}s (${lastProblem})`);
    const problem = await registerAndProbe(address, namespace).catch((err: unknown) => errorMessage(err));
    if (problem === undefined) {
      log(`Temporal cluster serving on ${address}`);
      return;
    }
    lastProblem = problem;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function registerAndProbe(address: string, namespace: string): Promise<string | undefined> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    return await connection.withDeadline(Date.now() + 10_000, async () => {
      const service = connection.workflowService;
      await service.getSystemInfo({});
      try {
        await service.describeNamespace({ namespace });
      } catch (err) {
        if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
        await service
          .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION_MS) })
          .catch((e: { code?: number }) => {
            if (e.code !== GRPC_ALREADY_EXISTS) throw e;
          });
        return `namespace ${namespace} registered; waiting for it to show`;
      }
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => customAttributes?.[name] === undefined);
      if (missing.length > 0) {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]!])),
        });
      }
      const probe = await probeTemporal(address, namespace);
      if (probe !== undefined) return probe;
      // Workflow ids spread over the shards: history answers "not found" for each once it owns its shard.
      for (let i = 0; i < 16; i++) {
        try {
          await service.describeWorkflowExecution({ namespace, execution: { workflowId: `probe-${randomUUID()}` } });
        } catch (err) {
          if ((err as { code?: number }).code !== GRPC_NOT_FOUND)
            return `history not serving yet: ${errorMessage(err)}`;
        }
      }
      return undefined;
    });
  } finally {
    await connection.close().catch(() => undefined);
  }
}
