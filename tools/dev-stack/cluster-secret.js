// The development cluster secret: generated once into .cairn/cluster-secret (mode 0600) and used
// by `npm start`, the benchmarks and the CLI's default profile, unless CAIRN_CLUSTER_SECRET is set.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SECRET_FILE = path.join(REPO_ROOT, '.cairn', 'cluster-secret');

function devClusterSecret() {
  if (process.env.CAIRN_CLUSTER_SECRET) return process.env.CAIRN_CLUSTER_SECRET;
  try {
    const text = fs.readFileSync(SECRET_FILE, 'utf8').trim();
    if (text.length >= 32) return text;
  } catch {
    /* first run */
  }
  fs.mkdirSync(path.dirname(SECRET_FILE), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  fs.writeFileSync(SECRET_FILE, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Sets CAIRN_CLUSTER_SECRET in this process's environment (children inherit it) and returns it. */
function useDevClusterSecret() {
  const secret = devClusterSecret();
  process.env.CAIRN_CLUSTER_SECRET = secret;
  return secret;
}

module.exports = { devClusterSecret, useDevClusterSecret, SECRET_FILE };
