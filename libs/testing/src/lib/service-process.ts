import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');
/** A service that has not said where it listens by then is taken as failed. */
export const SERVICE_START_TIMEOUT_MS = 60_000;
/** After SIGTERM a service gets this long to drain before SIGKILL. */
export const SERVICE_STOP_TIMEOUT_MS = 10_000;
/** Output kept for the error message of a service that fails. */
const MAX_KEPT_OUTPUT_CHARS = 20_000;
const LISTENING_URL_PATTERN = /"url":"(http:\/\/[^"]+)"/;

export interface ServiceProcessOptions {
  /** The app under apps/, e.g. 'metadata'. */
  readonly app: string;
  /**
   * Environment on top of the parent's (CAIRN_NS, CAIRN_INSTANCE, CAIRN_DATA_DIR…). The level must
   * stay at info or below: the URL is read from the info-level "listening" line.
   */
  readonly env: Record<string, string>;
  readonly startTimeoutMs?: number;
}

export interface ServiceProcess {
  readonly app: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** What the process wrote so far (the last MAX_KEPT_OUTPUT_CHARS). */
  output(): string;
  /** SIGTERM, then SIGKILL after SERVICE_STOP_TIMEOUT_MS; resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a service as its own process, as `npm start` does (apps may not import each other, so
 * tests of one service run the others this way), on an ephemeral port unless the env names one.
 * Resolves with the URL from its "listening" log line.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join('apps', options.app, 'src/main.ts')], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, CAIRN_HTTP_PORT: '0', CAIRN_HTTP_HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (data: Buffer) => {
    output = (output + String(data)).slice(-MAX_KEPT_OUTPUT_CHARS);
  };
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.app} did not start within ${options.startTimeoutMs ?? SERVICE_START_TIMEOUT_MS} ms:\n${output}`));
    }, options.startTimeoutMs ?? SERVICE_START_TIMEOUT_MS);
    let listening = false;
    child.stdout?.on('data', (data: Buffer) => {
      keep(data);
      const match = listening ? null : LISTENING_URL_PATTERN.exec(output);
      if (match) {
        listening = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.app} exited (${signal ?? code}) before listening:\n${output}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), SERVICE_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(killer);
  };
  return { app: options.app, url, child, output: () => output, stop };
}
