// `npm start`: the whole system on embedded defaults (Temporal dev server, Postgres, worker, API) with demo data.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBankClient } from '../bank/client.js';
import { loadConfig } from '../config.js';
import { createDb } from '../db/knex.js';
import { createSlotRepository } from '../db/repositories/slots.js';
import { loadOrCreateDemoData, seedDemo } from '../db/seed.js';
import { ensureDemoBankAccounts } from './bank-accounts.js';
import { demoGuide } from './demo-guide.js';
import { CODEC_PATH } from '../api/routes/codec.js';
import { assertPortFree } from './ports.js';
import { spawnTs, type TsChild } from './processes.js';
import { startInfrastructure, type Infrastructure } from './stack.js';

const startedAt = Date.now();
const config = loadConfig();
// `--trace-file [path]`: every process writes its spans to one file of JSON lines, for `npm run trace -- <order>`.
const { values: flags } = parseArgs({
  options: { 'trace-file': { type: 'string' }, trace: { type: 'boolean' } },
  strict: false,
});
const traceFile =
  typeof flags['trace-file'] === 'string'
    ? path.resolve(flags['trace-file'])
    : flags.trace
      ? path.join(config.dataDir, 'traces.jsonl')
      : undefined;
const logDir = path.join(config.dataDir, 'logs');
fs.mkdirSync(logDir, { recursive: true });
const say = (message: string) => console.log(`[start] ${message}`);
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
const root = fileURLToPath(new URL('../../', import.meta.url));

let infrastructure: Infrastructure | undefined;
const children: TsChild[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say('stopping…');
  // Front to back: the API stops taking requests, the worker finishes its tasks, then the servers they use.
  for (const child of [...children].reverse()) await child.stop();
  await infrastructure?.stop();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  await assertPortFree(config.port, 'PORT', 'the API');
  // BANK_URL names a standalone bank; otherwise the stack runs its own on BANK_PORT.
  if (!config.bank.url) await assertPortFree(config.bank.port, 'BANK_PORT', 'the bank');
  say(`data in ${config.dataDir}, logs in ${logDir}`);
  const apiUrl = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  infrastructure = await startInfrastructure({
    config,
    pgDataDir: path.join(config.dataDir, 'pg'),
    pgPort: config.pgPort,
    temporalPort: config.temporal.devPort,
    temporalUiPort: config.temporal.uiPort,
    // The Web UI shows payloads decrypted by the API, for an operator logged in on the API's pages.
    temporalUiCodecEndpoint: `${apiUrl}${CODEC_PATH}`,
    temporalDbFile: path.join(config.dataDir, 'temporal.db'),
    logDir,
    log: say,
  });
  say(`Postgres and Temporal ready (${elapsed()})`);

  const demo = loadOrCreateDemoData(path.join(config.dataDir, 'demo.json'));
  const db = createDb(infrastructure.databaseUrl, { max: 2 });
  const productIds = await seedDemo(db, demo);
  await db.destroy();

  const bankUrl = config.bank.url ?? `http://127.0.0.1:${config.bank.port}`;
  const env = {
    ...process.env,
    DATABASE_URL: infrastructure.databaseUrl,
    TEMPORAL_ADDRESS: infrastructure.temporalAddress,
    BANK_DATABASE_URL: infrastructure.bankDatabaseUrl,
    ...(config.bank.url ? {} : { BANK_URL: bankUrl }),
    ...(traceFile ? { TRACE_FILE: traceFile } : {}),
  };
  const bank = config.bank.url
    ? undefined
    : spawnTs('bank', path.join(root, 'src/bank/server.ts'), {
        env: { ...env, BANK_PORT: String(config.bank.port), WEBHOOK_URL: `${apiUrl}/v1/webhooks/bank` },
        logFile: path.join(logDir, 'bank.log'),
      });
  // First in, last out: the bank stops after the worker that calls it.
  if (bank) children.push(bank);
  const worker = spawnTs('worker', path.join(root, 'workers/main.ts'), {
    env,
    logFile: path.join(logDir, 'worker.log'),
  });
  const api = spawnTs('api', path.join(root, 'src/server.ts'), { env, logFile: path.join(logDir, 'api.log') });
  children.push(worker, api);
  for (const child of children) {
    void child.exited.then((code) => {
      if (stopping) return;
      say(`${child.name} exited unexpectedly (code ${code}); see ${path.join(logDir, `${child.name}.log`)}`);
      void shutdown(1);
    });
  }
  await Promise.all([worker.ready(120_000), api.ready(60_000), bank?.ready(60_000)]);

  const readyz = await fetch(`${apiUrl}/readyz`);
  if (!readyz.ok) throw new Error(`the API is up but not ready: ${await readyz.text()}`);

  const appDb = createDb(infrastructure.databaseUrl, { max: 2 });
  let demoSlotId: string | undefined;
  try {
    await ensureDemoBankAccounts(appDb, createBankClient(bankUrl, { apiKey: config.bank.apiKey }), demo);
    // The worker's slot planner creates the demo slots from their templates right after it starts.
    for (let i = 0; i < 100 && !demoSlotId; i++) {
      demoSlotId = await createSlotRepository(appDb).firstOpen(demo.locationId, new Date());
      if (!demoSlotId) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await appDb.destroy();
  }

  console.log(`
Ready in ${elapsed()}.

  API            ${apiUrl}
  API docs       ${apiUrl}/docs
  Customer page  ${apiUrl}/order  (sign up, or log in as a demo user below)
  Owner page     ${apiUrl}/owner
  Driver page    ${apiUrl}/driver
  Order board    ${apiUrl}/board/${demo.locationId}
  Health         ${apiUrl}/readyz
  Temporal UI    ${infrastructure.temporalUiUrl ? `${infrastructure.temporalUiUrl}  (payloads decrypt for an operator logged in on the owner page: docs/operations.md)` : '(external Temporal: use its own UI)'}
  Bank           ${bankUrl}${config.bank.url ? ' (standalone, from BANK_URL)' : ''}
  Traces         ${traceFile ? `${traceFile} (npm run trace -- <order number>)` : 'off (npm start -- --trace, or OTEL_EXPORTER_OTLP_ENDPOINT)'}
${demoGuide({ demo, demoFile: path.join(config.dataDir, 'demo.json'), apiUrl, slotId: demoSlotId, productIds })}`);
} catch (err) {
  console.error(`\n[start] failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}
