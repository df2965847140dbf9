// Command-line migration runner for deployments where migrations are their own step.
import { loadConfig } from '../config.js';
import { createDb } from './knex.js';
import { migrateLatest } from './migrate.js';

const config = loadConfig();
if (!config.databaseUrl) {
  console.error('DATABASE_URL is not set: nothing to migrate (npm start migrates the embedded database itself).');
  process.exit(1);
}
const db = createDb(config.databaseUrl);
try {
  const applied = await migrateLatest(db);
  console.log(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'Database is up to date.');
} finally {
  await db.destroy();
}
