#!/usr/bin/env node
// `npm start`: brings a whole region up on this machine. Uses the NATS, Postgres and Redis on
// their standard ports (starting private ones under .cairn/ where missing), starts every service
// with its logs prefixed, prints where each listens, and stops everything cleanly on Ctrl-C.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const { ensureLocalServices } = require('../services/local-services');
const { regionProcesses, DEV_ROOT_ACCESS_KEY, DEV_ROOT_SECRET_KEY } = require('./stack');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DATA_ROOT = path.join(REPO_ROOT, '.cairn', 'data');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const useColor = process.stdout.isTTY;
const COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

function paint(text, color) {
  return useColor ? `\u001b[${color}m${text}\u001b[0m` : text;
}

/** One readable line per JSON log line; anything else passes through as it is. */
function formatLine(line) {
  try {
    const entry = JSON.parse(line);
    const { level, time, msg, service, instance, region, context, req, res, responseTime, ...rest } = entry;
    const http = req ? ` ${req.method} ${req.url} -> ${res?.statusCode} ${responseTime}ms` : '';
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `${String(level).padEnd(5)} ${context ? `[${context}] ` : ''}${msg ?? ''}${http}${extra}`;
  } catch {
    return line;
  }
}

async function waitLive(url, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/health/live`);
      if (res.ok) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main() {
  const services = await ensureLocalServices({ log: (line) => console.log(`[stack] ${line}`) });
  for (const s of services) console.log(`[stack] ${s.name} ${s.state} on 127.0.0.1:${s.port}`);
  fs.mkdirSync(DATA_ROOT, { recursive: true });

  const processes = regionProcesses({ dataRoot: DATA_ROOT, namespace: process.env.CAIRN_NS ?? '' });
  const width = Math.max(...processes.map((p) => p.name.length));
  const children = processes.map((proc, i) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join('apps', proc.service, 'src', 'main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...proc.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = paint(`[${proc.name.padEnd(width)}]`, COLORS[i % COLORS.length]);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => console.log(`${prefix} ${formatLine(line)}`));
    }
    child.on('exit', (code, signal) => {
      if (!stopping) console.log(`${prefix} exited (${signal ?? code})`);
    });
    return { proc, child, url: `http://127.0.0.1:${proc.env.CAIRN_HTTP_PORT}` };
  });

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[stack] ${signal}: stopping every service`);
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (children.some(({ child }) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    console.log('[stack] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const live = await Promise.all(children.map(({ url, child }) => waitLive(url, child)));
  const rows = children.map(({ proc, url }, i) => `  ${proc.name.padEnd(width)}  ${url}  ${live[i] ? 'up' : 'NOT UP (see its log above)'}`);
  console.log(
    [
      '',
      '[stack] Cairn region-1 is running:',
      ...rows,
      '',
      `  S3 endpoint:   http://127.0.0.1:${processes.find((p) => p.service === 'access').env.CAIRN_HTTP_PORT}`,
      `  Access key:    ${DEV_ROOT_ACCESS_KEY}`,
      `  Secret key:    ${DEV_ROOT_SECRET_KEY}`,
      '  Health:        curl http://127.0.0.1:<port>/health   Docs: /docs   Metrics: /metrics',
      '  Stop:          Ctrl-C',
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  console.error(`[stack] ${error.message}`);
  process.exit(1);
});
