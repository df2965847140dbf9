// The lint rule that keeps workflow code deterministic really refuses I/O modules in workflows/.
import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The first lint builds the whole project's type information, slow on a busy machine: hence the long timeouts.
const eslint = new ESLint({ cwd: root });

async function ruleIdsFor(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  // A real file path, so the typed rules find the file in the project; the text given replaces its content.
  return result!.messages.map((m) => m.ruleId ?? `parse-error: ${m.message}`);
}

describe('workflow lint rule', () => {
  it('refuses Node built-ins, database and HTTP clients and real timers in workflows/', async () => {
    const bad = [
      "import fs from 'node:fs';\nexport const x = fs;\n",
      "import path from 'path';\nexport const x = path;\n",
      "import knex from 'knex';\nexport const x = knex;\n",
      "import pg from 'pg';\nexport const x = pg;\n",
      "import { Client } from '@temporalio/client';\nexport const x = Client;\n",
      'export const x = setTimeout;\n',
    ];
    for (const code of bad) {
      expect(await ruleIdsFor(code, `${root}workflows/order.ts`), code).toEqual(
        expect.arrayContaining([expect.stringMatching(/no-restricted-(imports|globals)/)]),
      );
    }
  }, 120_000);

  it('allows the same imports outside workflows/', async () => {
    expect(
      await ruleIdsFor("import fs from 'node:fs';\nexport const x = fs;\n", `${root}activities/orders.ts`),
    ).toEqual([]);
  }, 120_000);
});
