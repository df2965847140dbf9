// The lint rules that keep every query in src/db/: the config applies them outside src/db/ (and leaves tests and bench
// their own SQL), and the typed rule really refuses a query built on knex or pg. The rule runs on a small program of
// sample files rather than the whole project, so this stays quick next to the other lint test.
import { ESLint, Linter } from 'eslint';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import noDirectQueries from '../../eslint-rules/no-direct-queries.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const knexQuery =
  "import type { Knex } from 'knex';\nexport const find = (db: Knex) => db('orders').where({ id: 'x' }).first();\n";
const knexRaw = "import type { Knex } from 'knex';\nexport const ping = (db: Knex) => db.raw('SELECT 1');\n";
const knexTransaction =
  "import type { Knex } from 'knex';\nexport const wipe = (db: Knex) => db.transaction(async (trx) => { await trx('orders').delete(); });\n";
const knexFn = "import type { Knex } from 'knex';\nexport const stamp = (trx: Knex.Transaction) => trx.fn.now();\n";
const pgQuery = "import type pg from 'pg';\nexport const ping = (client: pg.Client) => client.query('SELECT 1');\n";

/** One program over every sample, so the type information is built once. */
function programOf(files: Map<string, string>): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.getSourceFile = (name, version, ...rest) => {
    const code = files.get(name);
    return code === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, code, version, true);
  };
  return ts.createProgram([...files.keys()], options, host);
}

const chain =
  "import type { Knex } from 'knex';\nexport const f = (db: Knex) => db('slots').where({ a: 1 }).andWhere('b', '>', 2).orderBy('c').first('id');\n";
const closing = "import type { Knex } from 'knex';\nexport const close = (db: Knex) => db.destroy();\n";
const passingOn = "import type { Knex } from 'knex';\nexport const keep = (db: Knex) => ({ db });\n";
const sampleFiles = new Map(
  [knexQuery, knexRaw, knexTransaction, knexFn, pgQuery, chain, closing, passingOn].map((code, i) => [
    `${root}activities/sample-${i}.ts`,
    code,
  ]),
);
let program: ts.Program | undefined;

/** Lints a sample with only the data rule, type-checked in the samples' program. */
function ruleIdsFor(code: string): string[] {
  const fileName = [...sampleFiles].find(([, c]) => c === code)![0];
  program ??= programOf(sampleFiles);
  const messages = new Linter().verify(
    code,
    [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser, parserOptions: { programs: [program] } },
        plugins: { data: { rules: { 'no-direct-queries': noDirectQueries } } },
        rules: { 'data/no-direct-queries': 'error' },
      },
    ],
    fileName,
  );
  return messages.map((m) => m.ruleId ?? `parse-error: ${m.message}`);
}

describe('the typed rule data/no-direct-queries', () => {
  it('refuses a query built on a knex instance, a transaction or a pg client', () => {
    for (const code of [knexQuery, knexRaw, knexTransaction, knexFn, pgQuery]) {
      // The transaction case holds two queries: the transaction itself and the delete inside it.
      expect([...new Set(ruleIdsFor(code))], code).toEqual(['data/no-direct-queries']);
    }
  }, 60_000);

  it('reports a chain of calls once', () => {
    expect(ruleIdsFor(chain)).toEqual(['data/no-direct-queries']);
  }, 60_000);

  it('allows closing a pool, and code that only passes a knex instance on', () => {
    expect(ruleIdsFor(closing)).toEqual([]);
    expect(ruleIdsFor(passingOn)).toEqual([]);
  }, 60_000);
});

describe('the lint config', () => {
  const eslint = new ESLint({ cwd: root });
  const rulesFor = async (file: string) =>
    ((await eslint.calculateConfigForFile(`${root}${file}`)) as { rules: Record<string, unknown[]> }).rules;
  const level = (rule: unknown[] | undefined) => rule?.[0];

  it('applies the typed rule and the knex/pg import ban everywhere outside src/db/ in the product', async () => {
    for (const file of [
      'activities/orders.ts',
      'src/api/routes/health.ts',
      'src/events/fanout.ts',
      'src/bank/ledger.ts',
      'src/dev/start.ts',
      'workers/main.ts',
    ]) {
      const rules = await rulesFor(file);
      expect(level(rules['data/no-direct-queries']), file).toBe(2);
      const [severity, options] = rules['no-restricted-imports'] as [
        number,
        { paths: { name: string; allowTypeImports?: boolean }[] },
      ];
      expect(severity, file).toBe(2);
      expect(
        options.paths.filter((p) => p.name === 'knex' || p.name === 'pg').map((p) => [p.name, p.allowTypeImports]),
        file,
      ).toEqual([
        ['knex', true],
        ['pg', true],
      ]);
    }
    // Workflows keep their own stricter block: no knex or pg at all, not even their types.
    const workflow = await rulesFor('workflows/order.ts');
    expect(level(workflow['data/no-direct-queries'])).toBe(2);
    const paths = (
      workflow['no-restricted-imports'] as [number, { paths: { name: string; allowTypeImports?: boolean }[] }]
    )[1].paths;
    expect(
      paths.filter((p) => p.name === 'knex' || p.name === 'pg').map((p) => [p.name, p.allowTypeImports ?? false]),
    ).toEqual([
      ['pg', false],
      ['knex', false],
    ]);
  }, 60_000);

  it('leaves src/db/, the tests and the bench their SQL', async () => {
    for (const file of [
      'src/db/repositories/orders.ts',
      'src/db/knex.ts',
      'test/integration/orders.test.ts',
      'bench/sse.ts',
    ]) {
      const rules = await rulesFor(file);
      expect(rules['data/no-direct-queries'], file).toBeUndefined();
      expect(rules['no-restricted-imports'], file).toBeUndefined();
    }
  }, 60_000);

  it('refuses a value import of knex or pg outside src/db/', async () => {
    const eslintNoTypes = new ESLint({
      cwd: root,
      overrideConfig: { ...tseslint.configs.disableTypeChecked, files: ['**/*.ts'] },
    });
    const idsOf = async (code: string, file: string) =>
      (await eslintNoTypes.lintText(code, { filePath: `${root}${file}` }))[0]!.messages.map((m) => m.ruleId);
    expect(await idsOf("import knex from 'knex';\nexport const k = knex;\n", 'src/api/app.ts')).toContain(
      'no-restricted-imports',
    );
    expect(await idsOf("import pg from 'pg';\nexport const p = pg;\n", 'activities/slots.ts')).toContain(
      'no-restricted-imports',
    );
    expect(
      await idsOf("import type { Knex } from 'knex';\nexport type Db = Knex;\n", 'activities/slots.ts'),
    ).not.toContain('no-restricted-imports');
    expect(await idsOf("import pg from 'pg';\nexport const p = pg;\n", 'src/db/knex.ts')).not.toContain(
      'no-restricted-imports',
    );
  }, 60_000);
});
