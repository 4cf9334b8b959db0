// Spawns the processes of one region (as listed by stack.js) and stops them: shared by `npm start`
// and the benchmarks that bring up their own private region.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { Agent, fetch } = require('undici');
const readline = require('node:readline');
const { regionProcesses } = require('./stack');
const { devClusterSecret } = require('./cluster-secret');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const LIVE_POLL_MS = 250;

/**
 * @param {{ namespace?: string, portOffset?: number, dataRoot: string, region?: string,
 *           env?: Record<string,string>, onLine?: (name: string, line: string) => void }} options
 */
function spawnRegion(options) {
  const processes = regionProcesses(options);
  const members = processes.map((proc) => {
    // CAIRN_CPU_PROFILE_DIR=<dir>: each process writes a V8 CPU profile there when it exits.
    const profiling = process.env.CAIRN_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.CAIRN_CPU_PROFILE_DIR)}`] : [];
    // CAIRN_PAUSE_LOG_DIR=<dir>: each process logs its event-loop stalls and GC pauses there, with wall-clock times (pause-log.js).
    const pauseLogDir = process.env.CAIRN_PAUSE_LOG_DIR ? path.resolve(process.env.CAIRN_PAUSE_LOG_DIR) : undefined;
    const pauseLog = pauseLogDir ? ['-r', path.join(__dirname, 'pause-log.js')] : [];
    const child = spawn(process.execPath, [...profiling, ...pauseLog, '-r', '@swc-node/register', path.join('apps', proc.service, 'src', 'main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, CAIRN_CLUSTER_SECRET: devClusterSecret(), ...(options.env ?? {}), ...proc.env, ...(pauseLogDir ? { CAIRN_PAUSE_LOG_DIR: pauseLogDir } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout, child.stderr]) {
      const lines = readline.createInterface({ input: stream });
      if (options.onLine) lines.on('line', (line) => options.onLine(proc.name, line));
    }
    const scheme = proc.env.CAIRN_TLS_CERT_FILE ? 'https' : 'http';
    return { proc, child, url: `${scheme}://127.0.0.1:${proc.env.CAIRN_HTTP_PORT}` };
  });

  // The dev CA, where the S3 endpoint serves HTTPS with a development certificate.
  const trustDispatcher = options.tls?.caFile ? new Agent({ connect: { ca: fs.readFileSync(options.tls.caFile) } }) : undefined;
  const running = (child) => child.exitCode === null && child.signalCode === null;

  async function waitLive(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    return Promise.all(
      members.map(async ({ url, child }) => {
        while (Date.now() < deadline && running(child)) {
          try {
            if ((await fetch(`${url}/health/live`, { dispatcher: trustDispatcher })).ok) return true;
          } catch {
            /* not listening yet */
          }
          await new Promise((r) => setTimeout(r, LIVE_POLL_MS));
        }
        return false;
      }),
    );
  }

  async function stop(timeoutMs) {
    for (const { child } of members) if (running(child)) child.kill('SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (members.some(({ child }) => running(child)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const { child } of members) if (running(child)) child.kill('SIGKILL');
  }

  return { members, waitLive, stop };
}

module.exports = { spawnRegion, REPO_ROOT };
