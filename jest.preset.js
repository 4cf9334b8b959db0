// Shared Jest settings for every project: SWC transforms TypeScript with decorator metadata
// (NestJS needs it), and the tsconfig path aliases resolve to the libraries' sources.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    path.join(__dirname, target),
  ]),
);

module.exports = {
  testEnvironment: 'node',
  testMatch: ['**/?(*.)+(spec).ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper,
  globalSetup: path.join(__dirname, 'tools/services/jest-global-setup.js'),
  setupFiles: [path.join(__dirname, 'tools/services/jest-env.js')],
  maxWorkers: 1,
  // A handle a test forgot (a keep-alive socket, a child process) must never hang `npm test`.
  forceExit: true,
  testTimeout: 30_000,
};
