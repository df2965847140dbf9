// Starts and stops the child processes of the local stack, each in its own process group.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assertPortFree } from './ports.js';
import { LAUNCHER_PID_ENV } from '../launcher-watch.js';

export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves once the process has exited, with its exit code. */
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

export interface TsChild extends Child {
  /** The first JSON line with `ready: true` the child prints on stdout. */
  ready(timeoutMs: number): Promise<Record<string, unknown>>;
}

const tsxCli = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Spawns a TypeScript entry point with tsx; its output is appended to `logFile`. */
export function spawnTs(
  name: string,
  entry: string,
  /** nodeArgs: Node flags for the entry's process (e.g. --cpu-prof), which NODE_OPTIONS may not carry. */
  opts: { env: NodeJS.ProcessEnv; logFile: string; nodeArgs?: string[] },
): TsChild {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, [tsxCli, ...(opts.nodeArgs ?? []), entry], {
    // tsx runs the entry in a process of its own, so the entry's parent is tsx, not us: name us instead.
    env: { ...opts.env, [LAUNCHER_PID_ENV]: String(process.pid) },
    detached: true,
    stdio: ['ignore', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  const log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  let announce: ((value: Record<string, unknown>) => void) | undefined;
  const announced = new Promise<Record<string, unknown>>((resolve) => (announce = resolve));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(`${line}\n`);
    if (!line.startsWith('{"ready"')) return;
    try {
      announce?.(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // an ordinary log line
    }
  });
  const tracked = track(name, child);
  return {
    ...tracked,
    ready(timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} did not become ready within ${timeoutMs / 1000}s; see ${opts.logFile}`)),
          timeoutMs,
        );
        void tracked.exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited with code ${code} before it was ready; see ${opts.logFile}`));
        });
        void announced.then((value) => {
          clearTimeout(timer);
          resolve(value);
        });
      });
    },
  };
}

/**
 * Runs `command args…` (argv after the parent's pid) as its child with the same stdio, passes on termination signals,
 * exits as the child does, and ends the child (SIGTERM, then SIGKILL after 5 s) once the parent process is gone.
 */
export const PARENT_GUARD = `
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

/**
 * Spawns a native binary under the parent guard (stopped when this process is gone, even by SIGKILL), in its own
 * process group, its output appended to `logFile`; `user` runs it as that uid and gid.
 */
export function spawnBinary(
  name: string,
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; logFile: string; user?: { uid: number; gid: number } },
): Child {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const logFd = fs.openSync(opts.logFile, 'a');
  if (opts.user) fs.fchownSync(logFd, opts.user.uid, opts.user.gid);
  const child = spawn(process.execPath, ['-e', PARENT_GUARD, String(process.pid), command, ...args], {
    env: opts.env,
    detached: true,
    stdio: ['ignore', logFd, logFd],
    ...(opts.user ?? {}),
  });
  fs.closeSync(logFd);
  return track(name, child);
}

export function track(name: string, child: ChildProcess): Child {
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    name,
    process: child,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      // Whatever the child left in its group goes with it.
      killGroup(child, 'SIGKILL');
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Starts embedded Postgres in its own process and resolves with the server URL once it accepts connections. */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  databases: string[];
  logFile: string;
}): Promise<{ url: string; child: TsChild }> {
  await assertPortFree(opts.port, 'PG_PORT', 'embedded Postgres');
  const child = spawnTs('postgres', fileURLToPath(new URL('./postgres-process.ts', import.meta.url)), {
    env: {
      ...process.env,
      PG_DATA_DIR: opts.dataDir,
      PG_PORT: String(opts.port),
      PG_DATABASES: opts.databases.join(','),
    },
    logFile: opts.logFile,
  });
  const announced = await child.ready(120_000);
  return { url: String(announced.url), child };
}
