// Global setup for the browser layer: finds Chromium, and on a Debian machine where we are root installs Debian's
// package when it is missing, so `npm ci && npm test` needs nothing installed by hand. Where that cannot work, the
// run fails with the one command to run; it never skips the browser tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import './context.js';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const APT_GET = '/usr/bin/apt-get';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Runs a command with its output on our terminal, so a long download shows progress. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${command} ${args.join(' ')} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`,
            ),
          ),
    );
  });
}

/** The Chromium binary to drive: CHROMIUM_PATH when set, else Debian's, installed with apt-get when missing and possible. */
export async function ensureChromium(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const configured = env.CHROMIUM_PATH;
  if (configured) {
    if (isExecutable(configured)) return configured;
    throw new Error(
      `CHROMIUM_PATH=${configured} is not an executable file: point it at a Chromium binary, or unset it to use Debian's (${DEBIAN_CHROMIUM}).`,
    );
  }
  if (isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;

  const root = process.getuid?.() === 0;
  const install = 'apt-get update && apt-get install -y chromium';
  if (!root || !isExecutable(APT_GET)) {
    const command = isExecutable(APT_GET)
      ? `sudo sh -c '${install}'`
      : 'install Chromium with your package manager and set CHROMIUM_PATH=/path/to/chromium';
    throw new Error(`The browser tests need Chromium, and ${DEBIAN_CHROMIUM} does not exist. Run: ${command}`);
  }
  console.error(
    `[test setup] ${DEBIAN_CHROMIUM} is missing; installing Debian's chromium for the browser tests: ${install}`,
  );
  // Another apt-get at work (an unattended upgrade) holds the lock for a while; wait for it rather than fail.
  await run(APT_GET, ['-o', 'DPkg::Lock::Timeout=300', 'update']);
  await run(APT_GET, ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', 'chromium']);
  if (!isExecutable(DEBIAN_CHROMIUM))
    throw new Error(`apt-get installed chromium, but ${DEBIAN_CHROMIUM} is still missing; set CHROMIUM_PATH.`);
  return DEBIAN_CHROMIUM;
}

export default async function setup(project: TestProject) {
  project.provide('chromiumPath', await ensureChromium());
}
