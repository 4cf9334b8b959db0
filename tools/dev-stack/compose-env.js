#!/usr/bin/env node
// Prints a fresh environment file for docker/compose.yml: the cluster secret and one NATS password
// per service user (and the admin user), all random. Usage:
//   node tools/dev-stack/compose-env.js > docker/.env
//   docker compose --env-file docker/.env -f docker/compose.yml up --build
'use strict';
const { randomBytes } = require('node:crypto');

const NATS_USERS = ['admin', 'access', 'metadata', 'storage', 'lock-manager', 'scheduler', 'monitoring', 'sync'];

function passwordVariable(user) {
  return `CAIRN_NATS_PASSWORD_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Letters first: nats-server reads an unquoted value that starts with a digit as a number. */
function password() {
  return `p${randomBytes(24).toString('hex')}`;
}

function composeEnv() {
  const lines = ['# Cairn compose secrets: keep this file private (it is git-ignored).', `CAIRN_CLUSTER_SECRET=${randomBytes(32).toString('base64url')}`];
  for (const user of NATS_USERS) lines.push(`${passwordVariable(user)}=${password()}`);
  return `${lines.join('\n')}\n`;
}

if (require.main === module) process.stdout.write(composeEnv());

module.exports = { composeEnv, passwordVariable, NATS_USERS };
