// Finds NATS (JetStream), PostgreSQL and Redis on their standard local ports and starts a private
// one, with its data under .cairn/, for each that is not answering. Used by `npm start`, by the
// Jest global setup and by .ci/run, so a fresh clone works wherever the binaries are installed.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PORT_WAIT_MS = 30_000;
/** As NATS_MAX_PAYLOAD_SETTING in libs/messaging/src/lib/nats-auth-permissions.ts (a spec checks they agree). */
const NATS_MAX_PAYLOAD_SETTING = 'max_payload: 8MB';

const SERVICES = [
  {
    name: 'nats',
    port: Number(process.env.CAIRN_NATS_PORT ?? 4222),
    binaries: ['nats-server', '/usr/sbin/nats-server'],
    install: 'apt-get install nats-server (Debian) or download nats-server 2.9+',
    start: (bin, dataDir, port) => {
      // The one setting the command line has no flag for (NATS_MAX_PAYLOAD_SETTING in libs/messaging).
      const config = path.join(dataDir, 'nats.conf');
      fs.writeFileSync(config, `${NATS_MAX_PAYLOAD_SETTING}\n`);
      spawnDetached(bin, ['-c', config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir], dataDir);
    },
  },
  {
    name: 'redis',
    port: Number(process.env.CAIRN_REDIS_PORT ?? 6379),
    binaries: ['redis-server', '/usr/bin/redis-server'],
    install: 'apt-get install redis-server',
    start: (bin, dataDir, port) =>
      spawnDetached(
        bin,
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dataDir],
        dataDir,
      ),
  },
  {
    name: 'postgres',
    port: Number(process.env.CAIRN_PG_PORT ?? 5432),
    binaries: ['pg_ctl', '/usr/local/bin/pg_ctl', ...globBinaries('/usr/lib/postgresql', 'pg_ctl')],
    install: 'apt-get install postgresql',
    start: startPostgres,
  },
];

function globBinaries(root, name) {
  try {
    return fs
      .readdirSync(root)
      .sort()
      .reverse()
      .map((version) => path.join(root, version, 'bin', name));
  } catch {
    return [];
  }
}

function which(candidates) {
  for (const candidate of candidates) {
    if (candidate.includes('/')) {
      if (fs.existsSync(candidate)) return candidate;
      continue;
    }
    try {
      return execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      /* not on PATH */
    }
  }
  return undefined;
}

function isAnswering(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isAnswering(port)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

function spawnDetached(bin, args, dataDir) {
  const log = fs.openSync(path.join(dataDir, 'server.log'), 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
}

function startPostgres(pgCtl, dataDir, port) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // initdb refuses to run as root; the distribution's cluster (as set up by the package) is the
  // one to start then.
  if (isRoot && fs.existsSync('/etc/postgresql')) {
    const versions = fs.readdirSync('/etc/postgresql');
    if (versions.length > 0) {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions.sort().at(-1), 'main', 'start'], {
        stdio: 'inherit',
      });
      return;
    }
  }
  const pgData = path.join(dataDir, 'data');
  const binDir = path.dirname(pgCtl);
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    execFileSync(path.join(binDir, 'initdb'), ['-D', pgData, '-U', 'postgres', '--auth=trust'], { stdio: 'ignore' });
  }
  execFileSync(
    pgCtl,
    ['-D', pgData, '-l', path.join(dataDir, 'server.log'), '-o', `-p ${port} -k /tmp -c listen_addresses=127.0.0.1`, 'start'],
    { stdio: 'ignore' },
  );
}

/**
 * Makes sure every local service answers. Returns what it did for each, and throws with the
 * install command when a service is down and its binary is missing.
 */
async function ensureLocalServices({ dataRoot = path.join(REPO_ROOT, '.cairn'), log = () => {} } = {}) {
  const report = [];
  for (const service of SERVICES) {
    if (await isAnswering(service.port)) {
      report.push({ name: service.name, port: service.port, state: 'running' });
      continue;
    }
    const bin = which(service.binaries);
    if (!bin) {
      throw new Error(
        `${service.name} is not answering on 127.0.0.1:${service.port} and its binary is not installed: ${service.install}`,
      );
    }
    const dataDir = path.join(dataRoot, service.name);
    fs.mkdirSync(dataDir, { recursive: true });
    log(`starting a private ${service.name} on 127.0.0.1:${service.port} (data in ${dataDir})`);
    service.start(bin, dataDir, service.port);
    if (!(await waitForPort(service.port, PORT_WAIT_MS))) {
      throw new Error(`${service.name} did not come up on 127.0.0.1:${service.port}; see ${dataDir}/server.log`);
    }
    report.push({ name: service.name, port: service.port, state: 'started' });
  }
  return report;
}

module.exports = { ensureLocalServices, isAnswering, NATS_MAX_PAYLOAD_SETTING };

if (require.main === module) {
  ensureLocalServices({ log: (line) => console.log(line) })
    .then((report) => report.forEach((s) => console.log(`${s.name}: ${s.state} on ${s.port}`)))
    .catch((err) => {
      console.error(err.message);
      process.exit(1);
    });
}
