// Several regions on one machine (`npm run start:regions`, docs/regions.md): the layout — ports,
// directories, databases, Redis databases, NATS configurations, the fault proxy's links — and
// the helpers that start the federation's NATS servers and the fault proxy. The single source for
// start-regions.js, docker/compose.regions.yml (kept in step by a test) and the regions tests.
//
// Topology: every region runs its own nats-server with JetStream in its own domain (the region's
// name). A hub nats-server without JetStream sits between them and keeps one leaf-node link to
// each region, through the fault proxy's link named after the region. The hub dials (its remotes
// say `hub: true`), each region listens and advertises the proxy's end of its link, so a server
// never learns a direct address to go round the proxy by (nats-server tells the dialling side
// the listener's URLs and tries them when the configured one fails):
//
//     region-1 NATS (leaf listener) ── [proxy: region-1] ──┐
//     region-2 NATS (leaf listener) ── [proxy: region-2] ──┼── hub NATS (no JetStream; dials)
//     region-3 NATS (leaf listener) ── [proxy: region-3] ──┘
//
// Leaf nodes must form a tree (NATS closes a link that closes a loop), so a full mesh is out; a
// hub of its own keeps the regions alike: cutting link region-2 partitions region-2 from all the
// others, who still reach each other. A cut region keeps running on its own JetStream, and the
// hub redials once the link heals (stream sources then resume where they were).
// Only JetStream's domain API ($JS.<domain>.API.>), its replies and other subjects cross a link:
// the subject families of a region's own services (REGION_LOCAL_SUBJECT_FAMILIES) are denied both
// ways, so no RPC, Raft message, heartbeat or stream capture ever leaks into another region.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { spawn, execFileSync } = require('node:child_process');
const { regionProcesses } = require('./stack');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_REGION_COUNT = 3;
const MAX_REGION_COUNT = 5;
/** Each region's ports are region-1's plus this many per region after the first (S3 9000, 10000, 11000). */
const REGION_PORT_STEP = 1000;
/** region-1's and the hub's ports; see docs/regions.md. */
const BASE_PORTS = {
  natsClient: 5222,
  natsMonitor: 5822,
  natsLeaf: 5422,
  link: 5722,
  hubClient: 4922,
  hubMonitor: 4822,
  proxyControl: 9990,
};
/** Subjects of a region's own services: never carried over a link, either way (also under a CAIRN_NS prefix). */
const REGION_LOCAL_SUBJECT_FAMILIES = ['rpc', 'raft', 'hb', 'meta', 'cluster', 'dlq'];
/**
 * The user the hub's leaf connection logs into a region as: it may carry only what crosses a
 * link. A development password (like stack.js's root keys): the leaf port is a region's own.
 */
const LEAF_LINK_USER = 'federation-hub';
const LEAF_LINK_DEV_PASSWORD = 'cairn-dev-leaf-link-change-me';
/** Clients that log in as nobody (every service, in development) are this user, allowed everything. */
const LOCAL_USER = 'region-local';
/** How long a federation process may take to listen: the fault proxy compiles its TypeScript first, slow on a loaded machine. */
const PORT_WAIT_MS = 60_000;
const STOP_WAIT_MS = 5_000;

function regionName(index) {
  return `region-${index}`;
}

/**
 * @param {{ regions?: number, root: string, portShift?: number, postgresUrl?: string, redisUrl?: string }} options
 *   root: where each region's directory goes (.cairn/regions for start:regions); portShift moves
 *   every port (tests use it to stay clear of a running start:regions).
 */
function regionsLayout({ regions = DEFAULT_REGION_COUNT, root, portShift = 0, postgresUrl = 'postgres://postgres@127.0.0.1:5432', redisUrl = 'redis://127.0.0.1:6379' }) {
  if (!Number.isInteger(regions) || regions < 1 || regions > MAX_REGION_COUNT) {
    throw new Error(`--regions must be a whole number from 1 to ${MAX_REGION_COUNT}, not ${regions}`);
  }
  const hub = {
    name: 'hub',
    dir: path.join(root, 'hub'),
    configFile: path.join(root, 'hub', 'nats.conf'),
    clientPort: BASE_PORTS.hubClient + portShift,
    monitorPort: BASE_PORTS.hubMonitor + portShift,
  };
  const list = Array.from({ length: regions }, (_, i) => {
    const name = regionName(i + 1);
    const portOffset = REGION_PORT_STEP * i;
    const dir = path.join(root, name);
    const databaseName = `cairn_${name.replace(/-/g, '_')}`;
    return {
      name,
      index: i + 1,
      portOffset,
      dir,
      profileFile: path.join(dir, 'profile.json'),
      nats: {
        serverName: `cairn-${name}`,
        domain: name,
        port: BASE_PORTS.natsClient + portOffset + portShift,
        monitorPort: BASE_PORTS.natsMonitor + portOffset + portShift,
        leafPort: BASE_PORTS.natsLeaf + portOffset + portShift,
        url: `nats://127.0.0.1:${BASE_PORTS.natsClient + portOffset + portShift}`,
        storeDir: path.join(dir, 'nats'),
        configFile: path.join(dir, 'nats.conf'),
      },
      link: { name, listenHost: '127.0.0.1', listenPort: BASE_PORTS.link + portOffset + portShift, targetHost: '127.0.0.1', targetPort: BASE_PORTS.natsLeaf + portOffset + portShift },
      databaseName,
      databaseUrl: `${postgresUrl}/${databaseName}`,
      // Redis logical database i: the region's own key space (scheduler queues, scrub cursors).
      redisDb: i + 1,
      redisUrl: `${redisUrl}/${i + 1}`,
    };
  });
  return {
    root,
    hub,
    regions: list,
    proxy: { controlPort: BASE_PORTS.proxyControl + portShift, controlUrl: `http://127.0.0.1:${BASE_PORTS.proxyControl + portShift}`, configFile: path.join(root, 'fault-proxy.json') },
  };
}

/** What a region's services get on top of stack.js's per-process environment. */
function regionServiceEnv(region) {
  return { CAIRN_NATS_URL: region.nats.url, CAIRN_DATABASE_URL: region.databaseUrl, CAIRN_REDIS_URL: region.redisUrl };
}

/**
 * What stack.js needs to lay out one region of the federation: its name and port offset, every
 * region as its sync's peers (replication and the control group), and the federation's keyring.
 */
function regionProcessOptions(layout, region) {
  // One keyring for the federation: a replicated encrypted object's data key is wrapped by the
  // master key of the region that wrote it and travels in its event (docs/encryption.md).
  return {
    region: region.name,
    portOffset: region.portOffset,
    dataRoot: layout.root,
    syncPeers: layout.regions.map((r) => r.name),
    keyringFile: `${layout.root}/keyring.json`,
  };
}

/** The processes of one region of the layout (stack.js's list, at the region's port offset). */
function regionServiceProcesses(layout, region, options = {}) {
  return regionProcesses({ ...options, ...regionProcessOptions(layout, region) });
}

function localSubjectDenies() {
  return REGION_LOCAL_SUBJECT_FAMILIES.flatMap((family) => [`${family}.>`, `*.${family}.>`]);
}

/** The URL the hub dials a region's link by, with the link user's credentials. */
function leafLinkUrl(hostPort, password = LEAF_LINK_DEV_PASSWORD) {
  return `nats-leaf://${LEAF_LINK_USER}:${password}@${hostPort}`;
}

/** As NATS_MAX_PAYLOAD_SETTING in libs/messaging/src/lib/nats-auth-permissions.ts (a spec checks they agree). */
const MAX_PAYLOAD_SETTING = 'max_payload: 8MB';

const quote = (list) => `[${list.map((s) => JSON.stringify(s)).join(', ')}]`;

/**
 * nats-server configuration of a region: JetStream in the region's domain, and a leaf-node
 * listener for the hub, which advertises the fault proxy's end of the region's link.
 * @param {{ serverName: string, listen: string, http: string, storeDir: string, domain: string, leafListen: string, leafAdvertise: string, leafPassword?: string }} o
 */
function natsRegionConfig(o) {
  const denies = quote(localSubjectDenies());
  return [
    `# nats-server of Cairn ${o.domain}: its own JetStream domain; the federation hub dials in as a leaf node.`,
    '# GENERATED by tools/dev-stack/regions.js (natsRegionConfig); see docs/regions.md.',
    `server_name: ${JSON.stringify(o.serverName)}`,
    `listen: ${JSON.stringify(o.listen)}`,
    `http: ${JSON.stringify(o.http)}`,
    `jetstream { store_dir: ${JSON.stringify(o.storeDir)}, domain: ${JSON.stringify(o.domain)} }`,
    '# The events of a very large object carry every chunk of it (NATS_MAX_PAYLOAD_SETTING in libs/messaging).',
    MAX_PAYLOAD_SETTING,
    '# The hub logs in as its own user, which carries only what may cross a link: a region\'s own',
    '# subjects (REGION_LOCAL_SUBJECT_FAMILIES) stay in the region, so its subscriptions to them are',
    '# never even offered to the hub. Every other client (no credentials) is the local user.',
    'authorization {',
    '  users: [',
    `    { user: ${JSON.stringify(LOCAL_USER)}, password: ${JSON.stringify(`${LOCAL_USER}-unused`)} }`,
    `    { user: ${JSON.stringify(LEAF_LINK_USER)}, password: ${JSON.stringify(o.leafPassword ?? LEAF_LINK_DEV_PASSWORD)}, permissions: { publish: { deny: ${denies} }, subscribe: { deny: ${denies} } } }`,
    '  ]',
    '}',
    `no_auth_user: ${JSON.stringify(LOCAL_USER)}`,
    '# advertise: the fault proxy\'s end of this region\'s link, so the hub only ever redials through it.',
    `leafnodes { listen: ${JSON.stringify(o.leafListen)}, advertise: ${JSON.stringify(o.leafAdvertise)} }`,
    '',
  ].join('\n');
}

/**
 * The federation hub: no JetStream, a leaf-node link to each region (through its proxy link),
 * dialled by the hub (`hub: true`), denying the regions' own subjects both ways.
 * @param {{ listen: string, http: string, links: { region: string, url: string }[] }} o
 */
function natsHubConfig(o) {
  const denies = quote(localSubjectDenies());
  return [
    '# The federation hub of Cairn regions: no JetStream, one leaf-node link to each region.',
    '# GENERATED by tools/dev-stack/regions.js (natsHubConfig); see docs/regions.md.',
    'server_name: "cairn-hub"',
    `listen: ${JSON.stringify(o.listen)}`,
    `http: ${JSON.stringify(o.http)}`,
    '# As the regions: a message one region takes crosses the hub to another.',
    MAX_PAYLOAD_SETTING,
    'leafnodes {',
    '  reconnect: 1',
    '  remotes: [',
    ...o.links.flatMap((link) => [
      `    # ${link.region}: a region's own subjects stay in the region (REGION_LOCAL_SUBJECT_FAMILIES).`,
      `    { url: ${JSON.stringify(link.url)}, hub: true, deny_imports: ${denies}, deny_exports: ${denies} }`,
    ]),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/** Writes every nats.conf of the layout and the fault proxy's link file. */
function writeFederationConfig(layout) {
  fs.mkdirSync(layout.hub.dir, { recursive: true });
  fs.writeFileSync(
    layout.hub.configFile,
    natsHubConfig({
      listen: `127.0.0.1:${layout.hub.clientPort}`,
      http: `127.0.0.1:${layout.hub.monitorPort}`,
      links: layout.regions.map((r) => ({ region: r.name, url: leafLinkUrl(`127.0.0.1:${r.link.listenPort}`) })),
    }),
  );
  for (const region of layout.regions) {
    fs.mkdirSync(region.nats.storeDir, { recursive: true });
    fs.writeFileSync(
      region.nats.configFile,
      natsRegionConfig({
        serverName: region.nats.serverName,
        listen: `127.0.0.1:${region.nats.port}`,
        http: `127.0.0.1:${region.nats.monitorPort}`,
        storeDir: region.nats.storeDir,
        domain: region.nats.domain,
        leafListen: `127.0.0.1:${region.nats.leafPort}`,
        leafAdvertise: `127.0.0.1:${region.link.listenPort}`,
      }),
    );
  }
  const proxyConfig = { control: { host: '127.0.0.1', port: layout.proxy.controlPort }, links: layout.regions.map((r) => r.link) };
  fs.writeFileSync(layout.proxy.configFile, `${JSON.stringify(proxyConfig, null, 2)}\n`);
}

function natsServerBinary() {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    try {
      const found = candidate.includes('/') ? (fs.existsSync(candidate) ? candidate : '') : execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      /* not on PATH */
    }
  }
  throw new Error('nats-server is not installed: apt-get install nats-server (Debian) or download nats-server 2.9+');
}

function isAnswering(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port, child, timeoutMs = PORT_WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if (await isAnswering(port)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts the hub's and every region's nats-server and the fault proxy (as processes), waits until
 * each answers, and returns them with a stop(). Refuses to start over a port that is taken.
 * @param {{ onLine?: (name: string, line: string) => void }} options
 */
async function startFederation(layout, options = {}) {
  writeFederationConfig(layout);
  const bin = natsServerBinary();
  const wanted = [
    { name: 'nats-hub', port: layout.hub.clientPort, command: bin, args: ['-c', layout.hub.configFile] },
    ...layout.regions.map((r) => ({ name: `nats-${r.name}`, port: r.nats.port, command: bin, args: ['-c', r.nats.configFile] })),
    {
      name: 'fault-proxy',
      port: layout.proxy.controlPort,
      command: process.execPath,
      args: ['-r', '@swc-node/register', path.join(REPO_ROOT, 'libs', 'fault-proxy', 'src', 'main.ts'), '--config', layout.proxy.configFile, '--exit-with-parent'],
    },
  ];
  const ports = [...wanted.map((w) => w.port), ...layout.regions.flatMap((r) => [r.nats.monitorPort, r.nats.leafPort, r.link.listenPort]), layout.hub.monitorPort];
  const taken = [];
  for (const port of ports) if (await isAnswering(port)) taken.push(port);
  if (taken.length) throw new Error(`port(s) ${taken.join(', ')} already in use: is another start:regions running?`);

  const processes = [];
  const stop = async () => {
    const alive = (p) => p.child.exitCode === null && p.child.signalCode === null;
    for (const p of processes) if (alive(p)) p.child.kill('SIGTERM');
    const deadline = Date.now() + STOP_WAIT_MS;
    while (processes.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const p of processes) if (alive(p)) p.child.kill('SIGKILL');
  };
  try {
    for (const w of wanted) {
      const child = spawn(w.command, w.args, { cwd: REPO_ROOT, stdio: [w.name === 'fault-proxy' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      const entry = { name: w.name, port: w.port, child, output: '' };
      processes.push(entry);
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding('utf8');
        let partial = '';
        stream.on('data', (text) => {
          entry.output = (entry.output + text).slice(-10_000);
          const lines = (partial + text).split('\n');
          partial = lines.pop();
          if (options.onLine) for (const line of lines) options.onLine(w.name, line);
        });
      }
    }
    for (const p of processes) {
      if (!(await waitForPort(p.port, p.child))) throw new Error(`${p.name} did not come up on 127.0.0.1:${p.port}:\n${p.output}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { processes, stop };
}

/** Creates each region's Postgres database where it does not exist yet. */
async function ensureRegionDatabases(layout, adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres') {
  const { Client } = require('pg');
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const region of layout.regions) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [region.databaseName]);
      if (!rowCount) await client.query(`CREATE DATABASE "${region.databaseName}"`);
    }
  } finally {
    await client.end();
  }
}

module.exports = {
  MAX_PAYLOAD_SETTING,
  regionsLayout,
  regionName,
  regionServiceEnv,
  regionServiceProcesses,
  regionProcessOptions,
  natsRegionConfig,
  natsHubConfig,
  leafLinkUrl,
  writeFederationConfig,
  startFederation,
  ensureRegionDatabases,
  localSubjectDenies,
  REGION_LOCAL_SUBJECT_FAMILIES,
  REGION_PORT_STEP,
  BASE_PORTS,
  DEFAULT_REGION_COUNT,
  MAX_REGION_COUNT,
};
