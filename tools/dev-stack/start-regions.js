#!/usr/bin/env node
// `npm run start:regions [-- --regions N]`: several whole regions on this machine (3 by default,
// named region-1, region-2, …; docs/regions.md). Each gets its own nats-server with JetStream in
// its own domain, its own Postgres database (cairn_region_<i>), its own Redis database (<i>) and
// its services at +1000 ports per region (S3 on 9000, 10000, 11000). The regions' NATS servers
// are joined by leaf-node links to a hub, each through the fault proxy, whose control API can cut
// a link, delay it or throttle it. Prints each region's endpoints; Ctrl-C stops all of it.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { ensureLocalServices } = require('../services/local-services');
const { DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY } = require('./stack');
const { spawnRegion, REPO_ROOT } = require('./region');
const { useDevClusterSecret } = require('./cluster-secret');
const { instancePrefix, formatLine } = require('./console-lines');
const { writeDevProfile } = require('./dev-profile');
const { regionsLayout, regionServiceEnv, regionServiceProcesses, regionProcessOptions, startFederation, ensureRegionDatabases, DEFAULT_REGION_COUNT } = require('./regions');

const REGIONS_ROOT = path.join(REPO_ROOT, '.cairn', 'regions');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

/** Stops whatever main() started; replaced by main() once there is something to stop. */
let stopAll = async () => {};

function parseRegionCount(argv) {
  const at = argv.findIndex((a) => a === '--regions' || a.startsWith('--regions='));
  if (at < 0) return DEFAULT_REGION_COUNT;
  const value = argv[at].includes('=') ? argv[at].split('=')[1] : argv[at + 1];
  return Number(value);
}

async function main() {
  const layout = regionsLayout({
    regions: parseRegionCount(process.argv.slice(2)),
    root: REGIONS_ROOT,
    postgresUrl: `postgres://postgres@127.0.0.1:${process.env.CAIRN_PG_PORT ?? 5432}`,
    redisUrl: `redis://127.0.0.1:${process.env.CAIRN_REDIS_PORT ?? 6379}`,
  });
  const services = await ensureLocalServices({ log: (line) => console.log(`[regions] ${line}`) });
  for (const s of services.filter((s) => s.name !== 'nats')) console.log(`[regions] ${s.name} ${s.state} on 127.0.0.1:${s.port}`);
  await ensureRegionDatabases(layout, `postgres://postgres@127.0.0.1:${process.env.CAIRN_PG_PORT ?? 5432}/postgres`);
  // One cluster secret for the whole federation: the regions' sync services will call each other.
  useDevClusterSecret();
  const namespace = process.env.CAIRN_NS ?? '';

  const width = Math.max(...layout.regions.flatMap((r) => regionServiceProcesses(layout, r, { namespace }).map((p) => `${r.name} ${p.name}`.length)), 'fault-proxy'.length);
  const prefix = (name, i) => instancePrefix(name, width, i);
  let stopping = false;
  let federation;
  const regions = [];
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[regions] ${signal}: stopping every service, the fault proxy and the NATS servers`);
    await Promise.all(regions.map((r) => r.stop(STOP_TIMEOUT_MS)));
    await federation?.stop();
    console.log('[regions] stopped');
    process.exit(0);
  };
  stopAll = stop;
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  federation = await startFederation(layout, { onLine: (name, line) => console.log(`${prefix(name, 0)} ${line}`) });
  for (const p of federation.processes) {
    p.child.on('exit', (code, signal) => {
      if (!stopping) console.log(`${prefix(p.name, 0)} exited (${signal ?? code})`);
    });
  }

  layout.regions.forEach((region, r) => {
    // The same processes as the compose file's (regionServiceProcesses): every sync knows its peers.
    const handle = spawnRegion({
      ...regionProcessOptions(layout, region),
      namespace,
      env: regionServiceEnv(region),
      onLine: (name, line) => console.log(`${prefix(`${region.name} ${name}`, r + 1)} ${formatLine(line)}`),
    });
    for (const { proc, child } of handle.members) {
      child.on('exit', (code, signal) => {
        if (!stopping) console.log(`${prefix(`${region.name} ${proc.name}`, r + 1)} exited (${signal ?? code})`);
      });
    }
    regions.push(handle);
  });

  const live = await Promise.all(regions.map((r) => r.waitLive(READY_TIMEOUT_MS)));
  // Each profile also names the fault proxy, for `cairn links`.
  const profiles = layout.regions.map((region, r) => {
    const profile = writeDevProfile(
      { region: region.name, members: regions[r].members, accessKeyId: DEV_ROOT_ACCESS_KEY, secretAccessKey: DEV_ROOT_SECRET_KEY },
      { file: region.profileFile, label: `start:regions ${region.name}` },
    );
    const withProxy = { ...profile, faultProxy: layout.proxy.controlUrl };
    fs.writeFileSync(region.profileFile, `${JSON.stringify(withProxy, null, 2)}\n`, { mode: 0o600 });
    return withProxy;
  });
  // All regions in one profile as well: `npx cairn --profile .cairn/regions/profile.json --endpoint region-2 status`.
  const allFile = path.join(layout.root, 'profile.json');
  fs.writeFileSync(allFile, `${JSON.stringify({ ...profiles[0], regions: Object.fromEntries(profiles.map((p) => [p.region, p])) }, null, 2)}\n`, { mode: 0o600 });

  const rel = (f) => path.relative(process.cwd(), f);
  const lines = ['', `[regions] ${layout.regions.length} Cairn region(s) are running:`];
  layout.regions.forEach((region, r) => {
    const access = regions[r].members.find((m) => m.proc.service === 'access');
    const down = regions[r].members.filter((_, i) => !live[r][i]).map((m) => m.proc.name);
    lines.push(
      '',
      `  ${region.name}${down.length ? `   NOT UP: ${down.join(', ')} (see their logs above)` : ''}`,
      `    S3 endpoint:  ${access.url}`,
      `    services:     ${regions[r].members.map((m) => `${m.proc.name} :${m.url.split(':').pop()}`).join(', ')}`,
      `    NATS:         ${region.nats.url}  (JetStream domain ${region.nats.domain}; monitor http://127.0.0.1:${region.nats.monitorPort})`,
      `    Postgres:     ${region.databaseUrl}`,
      `    Redis:        ${region.redisUrl}`,
      `    link:         ${region.link.name}  (proxy 127.0.0.1:${region.link.listenPort} -> leaf listener 127.0.0.1:${region.nats.leafPort})`,
      `    profile:      ${rel(region.profileFile)}   (npx cairn --profile ${rel(allFile)} --endpoint ${region.name} status)`,
    );
  });
  lines.push(
    '',
    `  Hub NATS:       nats://127.0.0.1:${layout.hub.clientPort}  (monitor http://127.0.0.1:${layout.hub.monitorPort}/leafz)`,
    `  Fault proxy:    ${layout.proxy.controlUrl}`,
    `                  npx cairn --profile ${rel(allFile)} links      (links cut|heal|latency|throttle|reset <link>)`,
    `                  curl ${layout.proxy.controlUrl}/links`,
    `                  curl -X POST ${layout.proxy.controlUrl}/links/region-2/cut      (…/heal, …/reset)`,
    `                  curl -X POST -d '{"ms":200}' ${layout.proxy.controlUrl}/links/region-2/latency`,
    `  Access key:     ${DEV_ROOT_ACCESS_KEY}`,
    `  Secret key:     ${DEV_ROOT_SECRET_KEY}`,
    `  Admin tokens:   in each region's profile (admin role, 30 days)`,
    '  Not yet:        replication between regions (sync) — see docs/regions.md',
    '  Stop:           Ctrl-C',
    '',
  );
  console.log(lines.join('\n'));
}

main().catch(async (error) => {
  console.error(`[regions] ${error.message}`);
  await stopAll('error');
  process.exit(1);
});
