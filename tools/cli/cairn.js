#!/usr/bin/env node
// The `cairn` operator CLI from this repository (`npx cairn …`, the "bin" of package.json): runs
// apps/cli/src/main.ts from source. An operator waits on every start, so instead of
// @swc-node/register (which loads TypeScript itself to read tsconfig, most of a second) the .ts
// files are compiled with @swc/core directly: the CLI uses no decorators and no path aliases at
// run time, so a plain TypeScript-to-CommonJS transform is all it needs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const SWC_OPTIONS = { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' }, sourceMaps: 'inline' };

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...SWC_OPTIONS, filename });
  module._compile(code, filename);
};
require(path.join(__dirname, '..', '..', 'apps', 'cli', 'src', 'main.ts'));
