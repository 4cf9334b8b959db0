import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { OutputTail } from './output-tail';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
/** A service that has not said where it listens by then is taken as failed. */
export const SERVICE_START_TIMEOUT_MS = 60_000;
/** After SIGTERM a service gets this long to drain before SIGKILL. */
export const SERVICE_STOP_TIMEOUT_MS = 10_000;
const LISTENING_URL_PATTERN = /"url":"(http:\/\/[^"]+)"/;
/** Signals that pause, resume or probe a process rather than end it. */
const NON_TERMINATING_SIGNALS = new Set<NodeJS.Signals | number>(['SIGSTOP', 'SIGCONT', 'SIGTSTP', 0]);

export interface ServiceProcessOptions {
  /** The app under apps/, e.g. 'metadata'. */
  readonly app: string;
  /**
   * Environment on top of the parent's (CAIRN_NS, CAIRN_INSTANCE, CAIRN_DATA_DIR…). The level must
   * stay at info or below: the URL is read from the info-level "listening" line.
   */
  readonly env: Record<string, string>;
  readonly startTimeoutMs?: number;
  /** The script to run, relative to the workspace root; apps/<app>/src/main.ts unless given. */
  readonly entry?: string;
  /**
   * Called once if the process ends after listening without stop() or a signal sent through
   * `child.kill`. By default the exit and the output tail are written to stderr.
   */
  readonly onUnexpectedExit?: (exit: ServiceExit) => void;
}

/** How a service process ended, with the last of what it wrote. */
export interface ServiceExit {
  readonly app: string;
  readonly instance: string | undefined;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of stdout and stderr (bounded by OutputTail). */
  readonly outputTail: string;
}

export interface ServiceProcess {
  readonly app: string;
  /** Its CAIRN_INSTANCE, when the env names one. */
  readonly instance: string | undefined;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last lines the process wrote on stdout and stderr. */
  output(): string;
  /** Set once the process has ended without being stopped or signalled from here. */
  unexpectedExit(): ServiceExit | undefined;
  /** SIGTERM, then SIGKILL after SERVICE_STOP_TIMEOUT_MS; resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a service as its own process, as `npm start` does (apps may not import each other, so
 * tests of one service run the others this way), on an ephemeral port unless the env names one.
 * Resolves with the URL from its "listening" log line. Keeps a bounded tail of its output for as
 * long as it runs, and reports at once if it ends on its own.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const instance = options.env['CAIRN_INSTANCE'];
  const entry = options.entry ?? path.join('apps', options.app, 'src/main.ts');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, CAIRN_HTTP_PORT: '0', CAIRN_HTTP_HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new OutputTail();
  child.stdout?.on('data', tail.writer());
  child.stderr?.on('data', tail.writer());
  const endedBy = trackEndingSignals(child);
  let stopRequested = false;
  let unexpectedExit: ServiceExit | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const startTimeoutMs = options.startTimeoutMs ?? SERVICE_START_TIMEOUT_MS;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.app} did not start within ${startTimeoutMs} ms:\n${tail.text()}`));
    }, startTimeoutMs);
    const watchForListening = () => {
      const match = LISTENING_URL_PATTERN.exec(tail.text());
      if (!match) return;
      child.stdout?.off('data', watchForListening);
      child.off('exit', failBeforeListening);
      clearTimeout(timer);
      resolve(match[1]);
    };
    const failBeforeListening = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`${options.app} exited (${signal ?? code}) before listening:\n${tail.text()}`));
    };
    child.stdout?.on('data', watchForListening);
    child.once('exit', failBeforeListening);
  });

  // 'close' comes after the exit and after both pipes are drained, so the tail holds the last words.
  child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
    if (stopRequested || endedBy.size > 0) return;
    unexpectedExit = { app: options.app, instance, pid: child.pid, code, signal, outputTail: tail.text() };
    (options.onUnexpectedExit ?? writeUnexpectedExit)(unexpectedExit);
  });

  const stop = async () => {
    stopRequested = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), SERVICE_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  };
  return { app: options.app, instance, url, child, output: () => tail.text(), unexpectedExit: () => unexpectedExit, stop };
}

/** The exit as one block on stderr, for benches and tests that run for long. */
export function describeServiceExit(exit: ServiceExit): string {
  const name = exit.instance ? `${exit.app} (${exit.instance})` : exit.app;
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return `\n=== service ${name} pid ${exit.pid} ended unexpectedly: ${how}; its last output:\n${exit.outputTail}=== end of ${name} output\n`;
}

function writeUnexpectedExit(exit: ServiceExit): void {
  process.stderr.write(describeServiceExit(exit));
}

/**
 * Tests end services on purpose by calling `child.kill` themselves; remembering the terminating
 * signals sent that way tells such an ending apart from a crash.
 */
function trackEndingSignals(child: ChildProcess): Set<NodeJS.Signals | number> {
  const sent = new Set<NodeJS.Signals | number>();
  const kill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    const effective = signal ?? 'SIGTERM';
    if (!NON_TERMINATING_SIGNALS.has(effective)) sent.add(effective);
    return kill(signal);
  };
  return sent;
}
