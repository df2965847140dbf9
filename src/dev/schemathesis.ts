// Finds or installs the pinned Schemathesis (the contract test of the OpenAPI document) in a virtualenv under the tools folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Pinned so every machine fuzzes with the same generator and checks.
export const SCHEMATHESIS_VERSION = '4.32.5';
// Written last: a folder without it is an install that stopped half-way.
const DONE_MARKER = '.installed';

type Log = (msg: string) => void;

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 2, 2] });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ENOENT' ? `${cmd} is not installed` : `${cmd} failed: ${err.message}`)),
    );
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${[cmd, ...args].join(' ')} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`),
        );
    });
  });
}

/**
 * Path of the `schemathesis` binary, installing the pinned version from PyPI into `<toolsDir>/schemathesis-<version>`
 * on first use (a virtualenv: Schemathesis has dependencies of its own, unlike the Temporal wheels).
 */
export async function findSchemathesis(toolsDir: string, log: Log = () => {}): Promise<string> {
  const dir = path.resolve(toolsDir, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const binary = path.join(dir, 'bin', 'schemathesis');
  const marker = `schemathesis==${SCHEMATHESIS_VERSION} in ${dir}\n`;
  // A virtualenv's scripts name its interpreter by the path it was built at: one built elsewhere (through a link
  // to this folder) cannot run here, and is built again.
  if (fs.existsSync(path.join(dir, DONE_MARKER)) && fs.readFileSync(path.join(dir, DONE_MARKER), 'utf8') === marker)
    return binary;
  // A virtualenv records its own path, so it is built where it stays; a half-built one is removed first.
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(toolsDir, { recursive: true });
  log(`Installing schemathesis==${SCHEMATHESIS_VERSION} from PyPI into ${dir}`);
  try {
    await run('python3', ['-m', 'venv', dir]);
    await run(path.join(dir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--quiet',
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ]);
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw new Error(
      `Could not install Schemathesis (${err instanceof Error ? err.message : String(err)}). ` +
        'Install Python 3 with pip and venv (apt-get install python3-pip python3-venv).',
    );
  }
  await fsp.writeFile(path.join(dir, DONE_MARKER), marker);
  return binary;
}

export interface SchemathesisRun {
  /** Schemathesis's exit code: 0 when no check failed. */
  code: number;
  output: string;
  /** The closing summary: phases, failures, warnings, test cases. */
  summary: string;
}

/**
 * Runs Schemathesis against the OpenAPI document at `${baseUrl}/docs/json` with its default checks, as the caller the
 * token names, using the settings in test/support/schemathesis.toml. Bounded by `maxExamples` per operation; a run
 * still going after `timeoutMs` is stopped and reported as failed (exit code 124). (Schemathesis's own --max-time is a
 * budget it spends in full, repeating fuzzing until it runs out, so it is no bound.)
 */
export async function runSchemathesis(opts: {
  binary: string;
  baseUrl: string;
  token: string;
  maxExamples: number;
  timeoutMs: number;
  seed?: number;
  workers?: number;
}): Promise<SchemathesisRun> {
  const configFile = fileURLToPath(new URL('../../test/support/schemathesis.toml', import.meta.url));
  // Its own working directory, so nothing it writes lands in the tree.
  const cwd = await fsp.mkdtemp(path.join(os.tmpdir(), 'schemathesis-'));
  const args = [
    '--no-color',
    '--config-file',
    configFile,
    'run',
    `${opts.baseUrl}/docs/json`,
    '--header',
    `Authorization: Bearer ${opts.token}`,
    '--max-examples',
    String(opts.maxExamples),
    '--workers',
    String(opts.workers ?? 2),
    ...(opts.seed === undefined ? [] : ['--seed', String(opts.seed)]),
  ];
  try {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn(opts.binary, args, {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
      }, opts.timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        if (timedOut) output += `\nSchemathesis did not finish within ${opts.timeoutMs} ms and was stopped\n`;
        resolve({ code: timedOut ? 124 : (exitCode ?? 1), output });
      });
    });
    const at = output.lastIndexOf('SUMMARY');
    const summary = at < 0 ? output.slice(-2000) : output.slice(output.lastIndexOf('\n', at) + 1);
    // Schemathesis closes its summary the way pytest closes a run (`=== 4 warnings in 35.16s ===`). The summary keeps
    // its words without the rules and without that timing line, so a log that carries it never reads as a pytest
    // run's closing line (one that ran no test, at that).
    const lines = summary
      .split('\n')
      .map((line) => line.replace(/^=+ ?(.*?) ?=+$/, '$1'))
      .filter((line) => line.trim() !== '' && !/ in \d+(\.\d+)?s\s*$/.test(line));
    return { code, output, summary: lines.join('\n') };
  } finally {
    await fsp.rm(cwd, { recursive: true, force: true });
  }
}
