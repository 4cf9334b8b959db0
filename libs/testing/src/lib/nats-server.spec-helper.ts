import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real nats-server of a test's own (the nats-server binary on PATH), for what the shared one on
 * 4222 cannot show: its own users and permissions, a small max_payload. JetStream in a temporary
 * directory; stopped and removed by `stop()`. (libs/messaging has the same for its own specs in
 * src/test/nats-server-process.ts: it cannot depend on this library, which depends on it.)
 */
export interface NatsServerProcess {
  readonly url: string;
  readonly dir: string;
  /** What the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function untilListening(port: number, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`nats-server exited: ${output()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves to 'timeout' if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);
}

/**
 * Starts nats-server on a free port with `config` (more lines of its configuration: users,
 * max_payload) and `env` (what the configuration reads from the environment).
 */
export async function startNatsServer(options: { readonly config?: string; readonly env?: Record<string, string> } = {}): Promise<NatsServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cairn-nats-'));
  const port = await freePort();
  const file = path.join(dir, 'nats-server.conf');
  writeFileSync(file, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(path.join(dir, 'js'))} }`, options.config ?? ''].join('\n'));
  // Where the test services' own nats-server is looked for too (tools/services/local-services.js).
  const PATH = [process.env['PATH'] ?? '', '/usr/sbin', '/usr/local/bin'].join(':');
  let output = '';
  const server = spawn('nats-server', ['-c', file], { env: { PATH, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (d) => (output += d));
  server.stderr?.on('data', (d) => (output += d));
  server.on('error', (error) => (output += String(error)));
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await within(once(server, 'exit'), STOP_TIMEOUT_MS);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilListening(port, server, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `nats://127.0.0.1:${port}`, dir, output: () => output, stop };
}
