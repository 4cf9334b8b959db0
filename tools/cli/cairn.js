#!/usr/bin/env node
// The `cairn` operator CLI from this repository (`npx cairn …`, the "bin" of package.json): runs
// apps/cli/src/main.ts from source. An operator waits on every start, so instead of
// @swc-node/register (which loads TypeScript itself to read tsconfig, most of a second) the .ts
// files are compiled with @swc/core directly: the CLI uses no decorators, so a plain
// TypeScript-to-CommonJS transform is all it needs. The few libraries it runs (libs/drill, shared
// with the scheduler, and what that loads) resolve by their tsconfig alias: @cairn/<name> is
// libs/<name>/src/index.ts. Type-only imports of other libraries vanish in the transform.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const swc = require('@swc/core');

const LIBS = path.join(__dirname, '..', '..', 'libs');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveCairnAlias(request, ...rest) {
  const alias = /^@cairn\/([a-z0-9-]+)$/.exec(request);
  return resolveFilename.call(this, alias ? path.join(LIBS, alias[1], 'src', 'index.ts') : request, ...rest);
};

const SWC_OPTIONS = { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' }, sourceMaps: 'inline' };

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...SWC_OPTIONS, filename });
  module._compile(code, filename);
};
require(path.join(__dirname, '..', '..', 'apps', 'cli', 'src', 'main.ts'));
