// Preloaded (`node -r`) into each process of a region when CAIRN_PAUSE_LOG_DIR is set (region.js):
// the process appends to <dir>/<instance>.pauses.jsonl, once a second, one JSON line per
//   - event-loop stall: a 5 ms timer that fired more than STALL_MIN_MS late, with the wall-clock
//     time it was due (t, ms since the epoch), the delay (ms) and the CPU the process spent in that
//     time (cpuMs: near ms when the process was busy, near 0 when it waited for a core);
//   - GC pause of GC_MIN_MS or more: wall-clock start, length and kind (1 minor/scavenge,
//     2 major/mark-compact, 4 incremental marking, 8 weak callbacks).
// Wall-clock times let the pauses of several processes be lined up with a client's slow requests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { PerformanceObserver, performance } = require('node:perf_hooks');

const TICK_MS = 5;
const STALL_MIN_MS = 5;
const GC_MIN_MS = 1;
const FLUSH_MS = 1000;

function startPauseLog(dir, instance) {
  const file = path.join(dir, `${instance}.pauses.jsonl`);
  const pending = [];
  const flush = () => {
    if (pending.length === 0) return;
    fs.appendFileSync(file, `${pending.join('\n')}\n`);
    pending.length = 0;
  };
  const wall = (at) => Math.round((performance.timeOrigin + at) * 1000) / 1000;
  const round = (ms) => Math.round(ms * 100) / 100;

  let last = performance.now();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const late = now - last - TICK_MS;
    if (late > STALL_MIN_MS) {
      const cpuMs = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000;
      pending.push(JSON.stringify({ kind: 'stall', t: wall(last + TICK_MS), ms: round(late), cpuMs: round(cpuMs) }));
    }
    last = now;
    lastCpu = cpu;
  }, TICK_MS).unref();

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= GC_MIN_MS) pending.push(JSON.stringify({ kind: 'gc', t: wall(entry.startTime), ms: round(entry.duration), gcKind: entry.detail?.kind }));
    }
  }).observe({ entryTypes: ['gc'] });

  setInterval(flush, FLUSH_MS).unref();
  process.on('exit', flush);
}

const dir = process.env.CAIRN_PAUSE_LOG_DIR;
const instance = process.env.CAIRN_INSTANCE;
if (dir && instance) {
  fs.mkdirSync(dir, { recursive: true });
  startPauseLog(dir, instance);
}
