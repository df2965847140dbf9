// A process the launcher started stops itself once the launcher is gone, even when the launcher was SIGKILLed.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { processExists } from '../../src/launcher-watch.js';

it('stops a launched process soon after its launcher is killed', { timeout: 30_000 }, async () => {
  const helper = fileURLToPath(new URL('../../src/launcher-watch.ts', import.meta.url));
  // The launched process only waits; it exits on SIGTERM, as the real entry points' graceful shutdowns do.
  const launched = `const { stopWhenLauncherExits } = await import(${JSON.stringify(helper)}); stopWhenLauncherExits(); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;
  const launcher = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
    import { spawn } from 'node:child_process';
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ${JSON.stringify(launched)}], {
      env: { ...process.env, LAUNCHER_PID: String(process.pid) }, detached: true, stdio: 'ignore',
    });
    console.log(child.pid);
    setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const pid = Number(
    await new Promise<string>((resolve) => readline.createInterface({ input: launcher.stdout! }).once('line', resolve)),
  );
  try {
    expect(processExists(pid)).toBe(true);
    // Give it time to start watching, then take the launcher away without a chance to clean up.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(processExists(pid)).toBe(true);
    launcher.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (processExists(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(processExists(pid)).toBe(false);
  } finally {
    if (processExists(pid)) process.kill(pid, 'SIGKILL');
    launcher.kill('SIGKILL');
  }
});
