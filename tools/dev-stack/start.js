#!/usr/bin/env node
// `npm start`: brings a whole region up on this machine. Uses the NATS, Postgres and Redis on
// their standard ports (starting private ones under .cairn/ where missing), starts every service
// with its logs prefixed, prints where each listens, and stops everything cleanly on Ctrl-C.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { ensureLocalServices } = require('../services/local-services');
const { regionProcesses, DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY } = require('./stack');
const { spawnRegion, REPO_ROOT } = require('./region');
const { useDevClusterSecret } = require('./cluster-secret');
const { ensureDevCertificate } = require('./dev-tls');
const { instancePrefix, formatLine } = require('./console-lines');
const { writeDevProfile, DEV_PROFILE_FILE } = require('./dev-profile');

const DATA_ROOT = path.join(REPO_ROOT, '.cairn', 'data');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

async function main() {
  const services = await ensureLocalServices({ log: (line) => console.log(`[stack] ${line}`) });
  for (const s of services) console.log(`[stack] ${s.name} ${s.state} on 127.0.0.1:${s.port}`);
  fs.mkdirSync(DATA_ROOT, { recursive: true });

  useDevClusterSecret();
  // `npm start -- --tls` (or CAIRN_DEV_TLS=1): the S3 endpoint serves HTTPS with a development certificate.
  const tls = process.argv.includes('--tls') || process.env.CAIRN_DEV_TLS === '1' ? ensureDevCertificate(path.join(REPO_ROOT, '.cairn', 'tls')) : undefined;
  const options = { dataRoot: DATA_ROOT, namespace: process.env.CAIRN_NS ?? '', tls };
  const names = regionProcesses(options).map((p) => p.name);
  const width = Math.max(...names.map((n) => n.length));
  const prefixes = new Map(names.map((name, i) => [name, instancePrefix(name, width, i)]));
  let stopping = false;
  const region = spawnRegion({ ...options, onLine: (name, line) => console.log(`${prefixes.get(name)} ${formatLine(line)}`) });
  for (const { proc, child } of region.members) {
    child.on('exit', (code, signal) => {
      if (!stopping) console.log(`${prefixes.get(proc.name)} exited (${signal ?? code})`);
    });
  }

  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[stack] ${signal}: stopping every service`);
    await region.stop(STOP_TIMEOUT_MS);
    console.log('[stack] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const live = await region.waitLive(READY_TIMEOUT_MS);
  const rows = region.members.map(({ proc, url }, i) => `  ${proc.name.padEnd(width)}  ${url}  ${live[i] ? 'up' : 'NOT UP (see its log above)'}`);
  const access = region.members.find((m) => m.proc.service === 'access');
  const profile = writeDevProfile({ region: 'region-1', members: region.members, caFile: tls?.caFile, accessKeyId: DEV_ROOT_ACCESS_KEY, secretAccessKey: DEV_ROOT_SECRET_KEY });
  console.log(
    [
      '',
      '[stack] Cairn region-1 is running:',
      ...rows,
      '',
      `  S3 endpoint:   ${access.url}`,
      `  Access key:    ${DEV_ROOT_ACCESS_KEY}`,
      `  Secret key:    ${DEV_ROOT_SECRET_KEY}`,
      ...(tls ? [`  TLS CA:        ${tls.caFile}   (e.g. AWS_CA_BUNDLE=${path.relative(process.cwd(), tls.caFile)})`] : []),
      `  Admin token:   ${profile.operatorToken}`,
      `                 (admin role, 30 days; saved with the endpoints in ${path.relative(process.cwd(), DEV_PROFILE_FILE)} for the CLI)`,
      `  Dashboard:     ${profile.dashboardUrl}`,
      '  CLI:           npx cairn status   (uses .cairn/profile.json)',
      '  Health:        curl http://127.0.0.1:<port>/health   Docs: /docs',
      '  Metrics:       curl -H "Authorization: Bearer <admin token>" http://127.0.0.1:<port>/metrics',
      '  Stop:          Ctrl-C',
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(`[stack] ${error.message}`);
  process.exit(1);
});
