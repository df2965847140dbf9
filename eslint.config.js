// Lint rules; the workflow block keeps workflow code deterministic by banning I/O modules, the data blocks keep every
// query in src/db/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import noDirectQueries from './eslint-rules/no-direct-queries.js';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      '.tools/**',
      'dist/**',
      'test-results/**',
      'bench/results/**',
      'scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must be deterministic: do I/O in an activity.',
            })),
            ...[
              'pg',
              'knex',
              'fastify',
              'undici',
              'pino',
              'prom-client',
              'typebox',
              '@temporalio/client',
              '@temporalio/worker',
              '@temporalio/activity',
            ].map((name) => ({ name, message: 'Workflow code must not talk to the outside world: use an activity.' })),
          ],
          patterns: [
            { group: ['node:*'], message: 'Workflow code must be deterministic: no Node built-ins.' },
            {
              // words.ts, not vocabulary.ts: every workflow the worker starts runs its bundle's modules afresh, and the
              // vocabulary's TypeBox schemas would double the bundle and the CPU each workflow costs.
              regex: '^\\.\\./(src/(?!domain/words\\.js$)|activities/(?!index\\.js$))',
              message:
                'Workflows import only @temporalio/workflow, the words (src/domain/words.ts), messages and activity types.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'process', message: 'Workflows have no process environment.' },
      ],
    },
  },
  {
    // One door to the data: outside src/db/, code calls repositories and builds no query (tests and bench may).
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workers/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['src/db/**'],
    plugins: { data: { rules: { 'no-direct-queries': noDirectQueries } } },
    rules: { 'data/no-direct-queries': 'error' },
  },
  {
    // The workflow block above already refuses these modules outright; elsewhere their types stay usable.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workers/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['knex', 'pg'].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'Only src/db/ talks to the database: call a repository (type imports are fine).',
          })),
        },
      ],
    },
  },
  {
    // Tests read JSON bodies of many shapes.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS modules Temporal's worker require()s by path.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', exports: 'writable', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
