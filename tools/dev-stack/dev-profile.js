// The development operator profile: endpoints of the `npm start` region, an admin operator token
// minted from the development cluster secret, and the root S3 keys, written to .cairn/profile.json
// (mode 0600) where the `cairn` CLI looks by default.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
require('@swc-node/register');
const { ClusterKeys, mintOperatorToken } = require('../../libs/protocol/src/index.ts');
const { devClusterSecret } = require('./cluster-secret');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEV_PROFILE_FILE = path.join(REPO_ROOT, '.cairn', 'profile.json');
const DEV_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * @param {{ region: string, members: { proc: { name: string, service: string }, url: string }[],
 *           caFile?: string, accessKeyId: string, secretAccessKey: string }} stack
 * @param {{ file?: string, label?: string }} options  file: where it goes (start:regions writes one per region)
 */
function writeDevProfile(stack, { file = DEV_PROFILE_FILE, label = 'npm start' } = {}) {
  const key = new ClusterKeys(devClusterSecret()).key('operator-tokens');
  const { token } = mintOperatorToken(key, { role: 'admin', label, ttlMs: DEV_TOKEN_TTL_MS }, Date.now());
  // The dashboard only reads: its link carries a read-only token.
  const { token: dashboardToken } = mintOperatorToken(key, { role: 'read-only', label: 'dashboard', ttlMs: DEV_TOKEN_TTL_MS }, Date.now());
  const endpoints = {};
  for (const { proc, url } of stack.members) {
    endpoints[proc.service] ??= url;
  }
  const profile = {
    region: stack.region,
    endpoints,
    operatorToken: token,
    dashboardUrl: `${endpoints.monitoring}/#token=${dashboardToken}`,
    ...(stack.caFile ? { caFile: stack.caFile } : {}),
    s3: { endpoint: endpoints.access, accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  return profile;
}

module.exports = { writeDevProfile, DEV_PROFILE_FILE };
