// Processes that `npm start` launches stop when the launcher is gone, however it died: an orphan would keep its port,
// and Postgres its data directory, from the next start.
export const LAUNCHER_PID_ENV = 'LAUNCHER_PID';

/** Whether a process with this id exists, whoever owns it. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When this process was started by the launcher (LAUNCHER_PID set), sends it SIGTERM, so its own graceful shutdown
 * runs, once the launcher no longer exists. Started any other way, does nothing.
 */
export function stopWhenLauncherExits(env: NodeJS.ProcessEnv = process.env): void {
  const launcher = Number(env[LAUNCHER_PID_ENV]);
  if (!Number.isInteger(launcher) || launcher <= 0) return;
  setInterval(() => {
    if (!processExists(launcher)) process.kill(process.pid, 'SIGTERM');
  }, 1000).unref();
}
