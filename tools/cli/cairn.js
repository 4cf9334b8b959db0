#!/usr/bin/env node
// The `cairn` operator CLI from this repository (`npx cairn …`, the "bin" of package.json): runs
// apps/cli/src/main.ts through @swc-node/register, as the services and tools here run.
'use strict';
const path = require('node:path');
require('@swc-node/register');
require(path.join(__dirname, '..', '..', 'apps', 'cli', 'src', 'main.ts'));
