// Runs the Temporal dev server locally (`temporal server start-dev`) with our namespace and search attributes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../config.js';
import { assertPortFree } from './ports.js';
import { PARENT_GUARD } from './processes.js';
import { errorMessage, silent, type Log } from './temporal-install.js';

export { findTemporalCli, findTestServer } from './temporal-install.js';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  stop(): Promise<void>;
  process: ChildProcess;
}

export interface StartDevServerOptions {
  cliPath: string;
  port: number;
  /** Undefined runs headless. */
  uiPort?: number;
  /** The remote codec the Web UI decodes payloads with (the API's /codec). */
  uiCodecEndpoint?: string;
  /** Undefined keeps everything in memory. */
  dbFile?: string;
  namespace: string;
  log?: Log;
  logFile?: string;
}

// Numeric values of temporal.api.enums.v1.IndexedValueType, kept here to avoid a direct proto dependency.
export const INDEXED_VALUE_TYPES: Record<string, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

function devServerArgs(opts: StartDevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port)];
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.uiPort !== undefined && opts.uiCodecEndpoint !== undefined)
    args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFile !== undefined) {
    // WAL keeps the many small history writes from fsyncing the whole file each time.
    args.push(
      '--db-filename',
      opts.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
    );
  }
  args.push('--namespace', opts.namespace, '--log-level', 'warn');
  for (const key of [
    'frontend.enableExecuteMultiOperation',
    'frontend.enableUpdateWorkflowExecution',
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted',
  ]) {
    args.push('--dynamic-config-value', `${key}=true`);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  return args;
}

/** Keeps the last bytes of the server's stderr for error messages when no log file is used. */
class OutputTail {
  private text = '';
  constructor(private readonly max = 8192) {}
  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-this.max);
  }
  toString(): string {
    return this.text;
  }
}

async function readTail(file: string, bytes = 8192): Promise<string> {
  try {
    const handle = await fsp.open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Starts `temporal server start-dev` and resolves once it serves our namespace with our search attributes. */
export async function startDevServer(opts: StartDevServerOptions): Promise<DevServer> {
  const log = opts.log ?? silent;
  await assertPortFree(opts.port, 'TEMPORAL_PORT', 'Temporal dev server');
  if (opts.uiPort !== undefined) await assertPortFree(opts.uiPort, 'TEMPORAL_UI_PORT', 'Temporal UI');
  if (opts.dbFile !== undefined) await fsp.mkdir(path.dirname(opts.dbFile), { recursive: true });

  let logFd: number | undefined;
  if (opts.logFile !== undefined) {
    await fsp.mkdir(path.dirname(opts.logFile), { recursive: true });
    logFd = fs.openSync(opts.logFile, 'a');
  }
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = opts.uiPort === undefined ? undefined : `http://127.0.0.1:${opts.uiPort}`;
  const args = devServerArgs(opts);
  log(`Starting Temporal dev server on ${address}${opts.dbFile ? ` with ${opts.dbFile}` : ' (in memory)'}`);

  let child: ChildProcess;
  try {
    // Its own process group, so stop() also reaches anything the CLI spawns. The CLI runs under a small guard that
    // stops it when this process is gone, even when this process was SIGKILLed and had no chance to clean up.
    child = spawn(process.execPath, ['-e', PARENT_GUARD, String(process.pid), opts.cliPath, ...args], {
      detached: true,
      stdio: ['ignore', logFd ?? 'ignore', logFd ?? 'pipe'],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    if (logFd !== undefined) fs.closeSync(logFd);
  }
  const tail = new OutputTail();
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));

  let exitInfo: string | undefined;
  const ended = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      exitInfo = `could not start ${opts.cliPath}: ${err.message}`;
      resolve();
    });
  });

  const signalGroup = (signal: NodeJS.Signals) => {
    if (exitInfo !== undefined || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  // A detached server would otherwise outlive a crashed or exiting parent.
  const killOnExit = () => signalGroup('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signalGroup('SIGTERM');
      const grace = delay(STOP_GRACE_MS);
      const exited = await Promise.race([ended.then(() => true), grace.promise.then(() => false)]);
      grace.cancel();
      if (!exited) {
        log('Temporal dev server did not stop within 10 s; killing it');
        signalGroup('SIGKILL');
        await ended;
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };

  const outputTail = async () => (opts.logFile !== undefined ? await readTail(opts.logFile) : tail.toString()).trim();
  const started = Date.now();
  const deadline = started + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (exitInfo !== undefined) {
      await stop();
      throw new Error(
        `Temporal dev server exited before becoming ready (${exitInfo}).\n${await outputTail()}`.trimEnd(),
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Temporal dev server on ${address} was not ready after ${READY_TIMEOUT_MS / 1000} s (${lastProblem}).\n${await outputTail()}`.trimEnd(),
      );
    }
    const problem = await probeTemporal(address, opts.namespace);
    if (problem === undefined) break;
    lastProblem = problem;
    const pause = delay(250);
    await Promise.race([pause.promise, ended]);
    pause.cancel();
  }
  log(`Temporal dev server ready on ${address} after ${Date.now() - started} ms${uiUrl ? `; UI at ${uiUrl}` : ''}`);
  return { address, uiUrl, stop, process: child };
}

/** Undefined when the server answers for the namespace and shows every search attribute with its type. */
export async function probeTemporal(address: string, namespace: string): Promise<string | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2000 });
    const conn = connection;
    return await conn.withDeadline(Date.now() + 5000, async () => {
      await conn.workflowService.getSystemInfo({});
      await conn.workflowService.describeNamespace({ namespace });
      const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
      const wrong = Object.entries(SEARCH_ATTRIBUTES)
        .filter(([name, type]) => Number(customAttributes?.[name]) !== INDEXED_VALUE_TYPES[type])
        .map(([name, type]) => `${name}=${type}`);
      return wrong.length === 0 ? undefined : `search attributes not registered yet: ${wrong.join(', ')}`;
    });
  } catch (err) {
    return errorMessage(err);
  } finally {
    await connection?.close().catch(() => {});
  }
}
