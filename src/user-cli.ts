// `npm run user -- create-operator <email> [--name "Full Name"]`: operators are made here, on a machine that reaches
// the database, never over HTTP. Prints a generated password and an API token once; only their hashes are stored.
// DATABASE_URL names the database; unset, the one `npm start` runs (embedded Postgres on PG_PORT).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { provisionUser } from './auth/provisioning.js';
import { loadConfig } from './config.js';
import { createDb } from './db/knex.js';
import { createRepositories } from './db/repositories/index.js';

const USAGE = 'usage: npm run user -- create-operator <email> [--name "Full Name"]';
// A loose check: the API's own schema validates addresses it is sent; this only catches a slip on the command line.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const { positionals, values } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: { name: { type: 'string' } },
});
const [command, email] = positionals;
if (command !== 'create-operator' || !email || positionals.length !== 2) {
  console.error(USAGE);
  process.exit(2);
}
if (!EMAIL.test(email) || email.length > 254) {
  console.error(`"${email}" is not an email address.\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig();
const db = createDb(config.databaseUrl ?? `postgres://postgres:postgres@127.0.0.1:${config.pgPort}/app`, { max: 2 });
try {
  const password = randomBytes(18).toString('base64url');
  const created = await provisionUser(createRepositories(db), {
    name: values.name ?? email.split('@')[0]!,
    role: 'operator',
    email,
    password,
    tokenName: 'created by npm run user',
  });
  console.log(`Operator ${email} created (id ${created.id}).
  Password   ${password}
  API token  ${created.token}
Both are shown only now.`);
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(/already exists/.test(message) ? `An account with the email ${email} already exists.` : message);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
