import nx from '@nx/eslint-plugin';

// Modules that a pure library (type:core, type:contract) must never import: frameworks, I/O and
// infrastructure clients. Time and randomness come in as arguments instead.
const IMPURE_MODULES = [
  '@nestjs/*',
  'typeorm',
  'pg',
  'nats',
  '@nats-io/*',
  'bullmq',
  'ioredis',
  'undici',
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'net',
  'node:net',
  'http',
  'node:http',
  'child_process',
  'node:child_process',
];

/**
 * Rules for pure code (type:core and type:contract libraries, domain folders): no clock, no
 * randomness, no timers, no environment, no I/O modules. Each pure project's eslint.config.mjs
 * appends this, because flat-config globs are relative to the config file that is used.
 */
export const pureCodeRules = {
  files: ['**/*.ts'],
  ignores: ['**/*.spec.ts', '**/test/**'],
  rules: {
    'no-restricted-properties': [
      'error',
      { object: 'Date', property: 'now', message: 'Pure code takes time as an argument.' },
      { object: 'Math', property: 'random', message: 'Pure code takes a seeded random source as an argument.' },
      { object: 'performance', property: 'now', message: 'Pure code takes time as an argument.' },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pure code takes time as an argument.' },
    ],
    'no-restricted-globals': [
      'error',
      { name: 'setTimeout', message: 'Pure code has no timers: it is driven by ticks.' },
      { name: 'setInterval', message: 'Pure code has no timers: it is driven by ticks.' },
      { name: 'process', message: 'Pure code reads no environment.' },
    ],
    'no-restricted-imports': ['error', { patterns: [{ group: IMPURE_MODULES, message: 'Pure code does no I/O and uses no framework.' }] }],
  },
};

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.cairn', '**/tmp', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Scope: a service sees only its own code, the protocol and shared libraries.
            { sourceTag: 'scope:access', onlyDependOnLibsWithTags: ['scope:access', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:metadata', onlyDependOnLibsWithTags: ['scope:metadata', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:storage', onlyDependOnLibsWithTags: ['scope:storage', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:sync', onlyDependOnLibsWithTags: ['scope:sync', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:lock-manager', onlyDependOnLibsWithTags: ['scope:lock-manager', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:scheduler', onlyDependOnLibsWithTags: ['scope:scheduler', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:monitoring', onlyDependOnLibsWithTags: ['scope:monitoring', 'scope:protocol', 'scope:shared'] },
            // The operator CLI is a client of the admin APIs: no service's code, only the protocol and shared libraries.
            { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:protocol', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:protocol'] },
            { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: ['scope:protocol', 'scope:shared'] },
            // Type: apps compose; infra wraps I/O; core and contract stay pure.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:core', 'type:contract', 'type:infra', 'type:testing'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:core', 'type:contract', 'type:infra'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:core', 'type:contract', 'type:infra', 'type:testing'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:core', 'type:contract', 'type:infra', 'type:testing'] },
            {
              sourceTag: 'type:core',
              onlyDependOnLibsWithTags: ['type:core', 'type:contract'],
              bannedExternalImports: IMPURE_MODULES,
            },
            {
              sourceTag: 'type:contract',
              onlyDependOnLibsWithTags: ['type:core', 'type:contract'],
              bannedExternalImports: IMPURE_MODULES,
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
