// `npm run build`: the production tree in dist/ (or --out-dir <dir>): the compiled server, worker, bank and migration
// entry points, the pages with their scripts bundled, and the workflow bundle the worker loads instead of bundling.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../telemetry/workflow-interceptors.js';
import { build } from 'esbuild';
import { PAGE_BUNDLE_OPTIONS } from '../api/plugins/static.js';
import { FAILURE_CONVERTER_PATH } from '../payload-codec.js';
import { TRACED_WORKFLOW_BUNDLE_FILE, WORKFLOW_BUNDLE_FILE, workflowsPath } from '../worker.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${path.basename(args[0] ?? command)} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`,
            ),
          ),
    );
  });
}

/** TypeScript to ESM JavaScript, with the same checks as `npm run typecheck`. */
async function compile(outDir: string): Promise<void> {
  await run(process.execPath, [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '-p',
    path.join(root, 'tsconfig.build.json'),
    '--outDir',
    outDir,
  ]);
  // Plain CommonJS that tsc does not emit; the worker require()s it by path.
  await fs.copyFile(FAILURE_CONVERTER_PATH, path.join(outDir, 'src', path.basename(FAILURE_CONVERTER_PATH)));
}

/** Each HTML page and what it loads: its script bundled and minified, the style sheet and images copied. */
async function buildPages(outDir: string): Promise<string[]> {
  const webDir = path.join(root, 'web');
  const target = path.join(outDir, 'web');
  await fs.mkdir(target, { recursive: true });
  const files = await fs.readdir(webDir);
  const scripts = new Set<string>();
  for (const file of files) {
    if (/\.(html|css|svg)$/.test(file)) await fs.copyFile(path.join(webDir, file), path.join(target, file));
    if (!file.endsWith('.html')) continue;
    const html = await fs.readFile(path.join(webDir, file), 'utf8');
    for (const [, name] of html.matchAll(/src="\/assets\/([a-z][a-z0-9-]*)\.js"/g)) scripts.add(name!);
  }
  const entryPoints = [...scripts].map((name) => path.join(webDir, `${name}.ts`));
  await build({ ...PAGE_BUNDLE_OPTIONS, entryPoints, outdir: target, minify: true, logLevel: 'warning' });
  return [...scripts].map((name) => `${name}.js`);
}

/** Two bundles of the same workflows: the worker loads the traced one when tracing is on, the plain one otherwise. */
async function buildWorkflowBundle(outDir: string): Promise<void> {
  for (const [file, workflowInterceptorModules] of [
    [WORKFLOW_BUNDLE_FILE, []],
    [TRACED_WORKFLOW_BUNDLE_FILE, WORKFLOW_INTERCEPTOR_MODULES],
  ] as const) {
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: [...workflowInterceptorModules],
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: new DefaultLogger('WARN'),
    });
    await fs.writeFile(path.join(outDir, file), code);
  }
}

const args = process.argv.slice(2);
const outFlag = args.indexOf('--out-dir');
const outDir = path.resolve(outFlag >= 0 && args[outFlag + 1] ? args[outFlag + 1]! : path.join(root, 'dist'));
const started = Date.now();
try {
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  const [, scripts] = await Promise.all([compile(outDir), buildPages(outDir), buildWorkflowBundle(outDir)]);
  // The compiled files are ES modules wherever the tree is copied.
  await fs.writeFile(path.join(outDir, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  console.log(
    `built ${path.relative(root, outDir) || outDir} (${((Date.now() - started) / 1000).toFixed(1)} seconds): pages ${scripts.join(', ')}, ${WORKFLOW_BUNDLE_FILE} and ${TRACED_WORKFLOW_BUNDLE_FILE}`,
  );
} catch (err) {
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
