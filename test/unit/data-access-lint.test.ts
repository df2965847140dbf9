// The lint rules that keep every query in src/db/ really refuse direct database access elsewhere, and leave src/db/ alone.
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIdsFor(code: string, file: string): Promise<string[]> {
  // A real file path, so the typed rules find the file in the project; the text given replaces its content.
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return result!.messages.map((m) => m.ruleId ?? `parse-error: ${m.message}`);
}

const knexQuery = "import type { Knex } from 'knex';\nexport const find = (db: Knex) => db('orders').where({ id: 'x' }).first();\n";
const knexRaw = "import type { Knex } from 'knex';\nexport const ping = (db: Knex) => db.raw('SELECT 1');\n";
const knexTransaction = "import type { Knex } from 'knex';\nexport const wipe = (db: Knex) => db.transaction(async (trx) => { await trx('orders').delete(); });\n";
const knexFn = "import type { Knex } from 'knex';\nexport const stamp = (trx: Knex.Transaction) => trx.fn.now();\n";
const pgQuery = "import type pg from 'pg';\nexport const ping = (client: pg.Client) => client.query('SELECT 1');\n";

describe('the data-access lint rules', () => {
  it('refuse a query built on a knex instance, a transaction or a pg client outside src/db/', async () => {
    const cases: [code: string, file: string][] = [
      [knexQuery, 'activities/orders.ts'],
      [knexRaw, 'src/api/routes/health.ts'],
      [knexTransaction, 'src/events/snapshots.ts'],
      [knexFn, 'src/bank/ledger.ts'],
      [pgQuery, 'src/events/fanout.ts'],
      [knexQuery, 'workers/main.ts'],
    ];
    for (const [code, file] of cases) {
      // The transaction case holds two queries: the transaction itself and the delete inside it.
      expect([...new Set(await ruleIdsFor(code, file))], `${file}: ${code}`).toEqual(['data/no-direct-queries']);
    }
  }, 120_000);

  it('report a chain of calls once', async () => {
    const chain = "import type { Knex } from 'knex';\nexport const f = (db: Knex) => db('slots').where({ a: 1 }).andWhere('b', '>', 2).orderBy('c').first('id');\n";
    expect(await ruleIdsFor(chain, 'src/dev/start.ts')).toEqual(['data/no-direct-queries']);
  }, 60_000);

  it('refuse value imports of knex and pg outside src/db/, and allow their types', async () => {
    expect(await ruleIdsFor("import knex from 'knex';\nexport const k = knex;\n", 'src/api/app.ts')).toEqual(['no-restricted-imports']);
    expect(await ruleIdsFor("import pg from 'pg';\nexport const p = pg;\n", 'activities/slots.ts')).toEqual(['no-restricted-imports']);
    expect(await ruleIdsFor("import type { Knex } from 'knex';\nexport type Db = Knex;\n", 'activities/slots.ts')).toEqual([]);
  }, 60_000);

  it('allow closing a pool outside src/db/, and every query inside src/db/', async () => {
    expect(await ruleIdsFor("import type { Knex } from 'knex';\nexport const close = (db: Knex) => db.destroy();\n", 'workers/main.ts')).toEqual([]);
    for (const code of [knexQuery, knexRaw, knexTransaction, pgQuery]) {
      expect(await ruleIdsFor(code, 'src/db/repositories/orders.ts'), code).toEqual([]);
    }
    expect(await ruleIdsFor("import pg from 'pg';\nexport const p = pg;\n", 'src/db/knex.ts')).toEqual([]);
  }, 120_000);

  it('leave tests their own SQL for setup and assertions', async () => {
    expect(await ruleIdsFor(knexQuery, 'test/integration/orders.test.ts')).toEqual([]);
  }, 60_000);
});
