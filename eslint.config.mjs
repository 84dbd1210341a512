// ESLint flat config: type-aware rules everywhere, and the Temporal workflow sandbox rules
// (no Node built-ins, no I/O) on workflow code.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.tools/**',
      '.data/**',
      '.scratch/**',
      'coverage/**',
      'dist/**',
      '**/*.mjs',
      '**/*.js',
    ],
  },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.',
            },
            {
              group: [
                'fs',
                'path',
                'os',
                'net',
                'http',
                'https',
                'crypto',
                'child_process',
                'events',
                'stream',
                'util',
                'timers',
              ],
              message: 'No Node built-ins in workflow code.',
            },
            {
              group: [
                'mongodb',
                'bson',
                'express',
                'pino',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'No I/O libraries in workflow code.',
            },
            {
              group: ['../activities/*', '../activities'],
              importNamePattern: '^(?!type )',
              message: 'Import activities only as types (import type).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
