#!/usr/bin/env node
'use strict';
/**
 * `npm test`: every project's jest run through Nx, two at a time, output streamed as it comes.
 * With 21 projects interleaved, a failure's details are printed minutes before the run ends and
 * scroll out of any log that keeps only its tail; so when the run fails this repeats, last, which
 * test files failed and the first lines of each failing test's message. Jest's own summaries are
 * printed unchanged above it, and the exit code is Nx's.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');

const NX_ARGS = ['run-many', '-t', 'test', '--parallel=2', '--outputStyle=stream', ...process.argv.slice(2)];
/** Lines kept after each failing test's heading: the message and the top of its stack. */
const LINES_PER_FAILURE = 14;
/** A repeated line is cut here (a service's JSON log line can run to kilobytes). */
const MAX_LINE_CHARS = 300;
/** At most this many failures are repeated in full; the rest are named. */
const FAILURES_IN_FULL = 8;

const ANSI = /\x1b\[[0-9;]*m/g;

/** Collects, per project, the failing files and each failing test with the lines that follow it. */
function failureCollector() {
  const failedFiles = [];
  const failures = [];
  const open = new Map();
  return {
    line(raw) {
      const text = raw.replace(ANSI, '');
      const prefixed = /^([\w.-]+):\s(.*)$/.exec(text);
      if (!prefixed) return;
      const [, project, rest] = prefixed;
      const current = open.get(project);
      if (/^\s*FAIL\s/.test(rest)) failedFiles.push(`${project}: ${rest.trim().replace(/^FAIL\s+/, '')}`);
      const heading = /^\s*● (.*)$/.exec(rest);
      if (/^\s*(PASS\s|FAIL\s|Test Suites:|Summary of all failing tests)/.test(rest)) {
        open.delete(project);
        return;
      }
      if (heading && !heading[1].startsWith('Console')) {
        // Jest repeats every failure in its closing summary: each is kept once.
        if (failures.some((f) => f.project === project && f.title === heading[1].trim())) {
          open.delete(project);
          return;
        }
        const failure = { project, title: heading[1].trim(), lines: [] };
        failures.push(failure);
        open.set(project, failure);
        return;
      }
      if (heading) {
        open.delete(project);
        return;
      }
      if (current && current.lines.length < LINES_PER_FAILURE && rest.trim() !== '') current.lines.push(rest.replace(/\s+$/, '').slice(0, MAX_LINE_CHARS));
    },
    summary() {
      const out = ['', '==== npm test failed: what failed, repeated from the output above ===='];
      for (const file of failedFiles) out.push(`FAIL ${file}`);
      failures.forEach((f, i) => {
        if (i < FAILURES_IN_FULL) out.push('', `● ${f.project}: ${f.title}`, ...f.lines.map((l) => `    ${l.trim()}`));
        else out.push(`● ${f.project}: ${f.title}`);
      });
      if (failedFiles.length === 0 && failures.length === 0) out.push('(no jest failure was printed: see the Nx task summary above)');
      return out.join('\n');
    },
  };
}

function main() {
  const collector = failureCollector();
  const nx = spawn(process.execPath, [require.resolve('nx/bin/nx.js'), ...NX_ARGS], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['inherit', 'pipe', 'pipe'],
  });
  const follow = (source, sink) => {
    let partial = '';
    source.on('data', (chunk) => {
      sink.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop();
      for (const l of lines) collector.line(l);
    });
    source.on('end', () => partial && collector.line(partial));
  };
  follow(nx.stdout, process.stdout);
  follow(nx.stderr, process.stderr);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => nx.kill(signal));
  nx.on('close', (code, signal) => {
    const exitCode = code ?? (signal ? 1 : 0);
    if (exitCode !== 0) process.stdout.write(`${collector.summary()}\n`);
    process.exit(exitCode);
  });
}

if (require.main === module) main();
module.exports = { failureCollector };
