import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { subjectsFor } from '@cairn/protocol';
import { nkeys, type NatsConnection } from 'nats';
import type { MessagingConfig } from './messaging.config';
import { natsPasswordVariable, natsServerAuthorization, type NatsServiceUser } from './nats-auth-permissions';
import { NatsConnectionManager } from './nats-connection';
import { ensureStreams } from './stream-provisioning';
import { StreamTail } from './stream-tail';
import { eventually } from '../test/nats-fixture';

/**
 * A real nats-server of its own (the nats-server binary on PATH), configured the way a deployment
 * is: one user per service with the generated least-privilege permissions, passwords read from
 * the server's environment, JetStream in a temporary directory.
 */

const STARTUP_TIMEOUT_MS = 5_000;
/** How long a connection that must be refused is given to (not) come up: a few of the manager's 1 s retries. */
const REFUSED_WITHIN_MS = 1_500;

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

/** Collects the errors the server reports on a connection (permission violations come this way). */
function serverErrors(nc: NatsConnection): string[] {
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.data));
  })();
  return errors;
}

describe('NATS authentication and least-privilege permissions (own nats-server)', () => {
  const namespace = `t${randomBytes(5).toString('hex')}`;
  const subjects = subjectsFor(namespace);
  const passwords = new Map<string, string>();
  const nkey = nkeys.createUser();
  let dir: string;
  let seedFile: string;
  let url: string;
  let server: ChildProcess;
  let output = '';
  const managers: NatsConnectionManager[] = [];

  function manager(extra: Partial<MessagingConfig>): NatsConnectionManager {
    const m = new NatsConnectionManager({ natsUrl: url, namespace, region: 'test', serviceName: 'auth-test', instance: `auth-test-${managers.length}`, ...extra });
    managers.push(m);
    return m;
  }
  const as = (user: NatsServiceUser) => manager({ natsUser: user, natsPassword: passwords.get(user) });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cairn-nats-auth-'));
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    const env: Record<string, string> = {};
    for (const user of ['access', 'metadata', 'sync', 'admin'] as const) {
      passwords.set(user, randomBytes(12).toString('hex'));
      // nats-server parses a variable's value as a config value: quoted, any password reads as a string.
      env[natsPasswordVariable(user)] = JSON.stringify(passwords.get(user)!);
    }
    seedFile = path.join(dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(nkey.getSeed())}\n`, { mode: 0o600 });
    // The generated users (those without a password in the environment cannot log in), and one nkey user with every right.
    const authorization = natsServerAuthorization(namespace).replace('  users: [', `  users: [\n    { nkey: "${nkey.getPublicKey()}" }`);
    const config = path.join(dir, 'nats-server.conf');
    writeFileSync(config, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(path.join(dir, 'js'))} }`, authorization].join('\n'));
    for (const user of ['storage', 'lock-manager', 'scheduler', 'monitoring'] as const) env[natsPasswordVariable(user)] = JSON.stringify(randomBytes(12).toString('hex'));
    // Where the test services' own nats-server is looked for too (tools/services/local-services.js).
    const PATH = [process.env['PATH'] ?? '', '/usr/sbin', '/usr/local/bin'].join(':');
    server = spawn('nats-server', ['-c', config], { env: { PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (d) => (output += d));
    server.stderr?.on('data', (d) => (output += d));
    server.on('error', (error) => (output += String(error)));
    await untilListening(port, server, () => output);
  }, 10_000);

  afterAll(async () => {
    await Promise.all(managers.map((m) => m.close().catch(() => undefined)));
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await within(once(server, 'exit'), 3_000);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with a service user and password, provisions the streams and appends to its own subjects', async () => {
    const metadata = as('metadata');
    const nc = await within(metadata.connection(), 5_000);
    expect(nc).not.toBe('timeout');
    expect(metadata.isConnected()).toBe(true);
    await ensureStreams(await metadata.jetstreamManager(), namespace);
    const ack = await (await metadata.jetstream()).publish(subjects.bucket('photos'), new TextEncoder().encode('{}'));
    expect(ack.stream).toBe(subjects.streamName('META'));
  });

  it.each([
    ['no credentials', {}],
    ['a wrong password', { natsUser: 'metadata', natsPassword: 'not-the-password' }],
    ['an unknown user', { natsUser: 'intruder', natsPassword: 'whatever' }],
  ])('refuses a connection with %s: the manager stays unconnected and says why', async (_case, credentials: Partial<MessagingConfig>) => {
    const refused = manager(credentials);
    expect(await within(refused.connection(), REFUSED_WITHIN_MS)).toBe('timeout');
    expect(refused.isConnected()).toBe(false);
    expect(refused.status).toBe('connecting');
    expect(refused.lastError).toMatch(/authorization/i);
    await expect(refused.ping(100)).rejects.toThrow(/authorization/i);
    // The password never shows in what the manager reports.
    expect(refused.lastError).not.toContain('not-the-password');
  });

  it('connects with an nkey seed file', async () => {
    const holder = manager({ natsNkeySeedFile: seedFile });
    expect(await within(holder.connection(), 5_000)).not.toBe('timeout');
    expect(holder.isConnected()).toBe(true);
  });

  it('reports a permissions violation when a service publishes outside its subjects, and delivers nothing', async () => {
    const metadataNc = await as('metadata').connection();
    const events = metadataNc.subscribe(subjects.bucket('>'));
    await metadataNc.flush();
    const access = await as('access').connection();
    const errors = serverErrors(access);
    // access may ask metadata but not write its events, nor beat for another service.
    // The server's -ERR comes before the flush's PONG; nats.js hands it to status() a moment later.
    access.publish(subjects.bucket('photos'), new TextEncoder().encode('forged'));
    await access.flush();
    await eventually(() => errors.length === 1, 2_000);
    access.publish(subjects.heartbeat('test', 'metadata', 'metadata-1'), new TextEncoder().encode('{}'));
    await access.flush();
    await eventually(() => errors.length === 2, 2_000);
    expect(errors).toEqual(['PERMISSIONS_VIOLATION', 'PERMISSIONS_VIOLATION']);
    await metadataNc.flush();
    expect(events.getProcessed()).toBe(0);
    events.unsubscribe();
    // What it is allowed stays allowed on the same connection.
    access.publish(subjects.rpc('metadata', 'bucket.get'), new TextEncoder().encode('{}'));
    access.publish(subjects.heartbeat('test', 'access', 'access-1'), new TextEncoder().encode('{}'));
    await access.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toHaveLength(2);
  });

  it('lets access ask metadata over RPC (metadata answers on the inbox it may only respond to) and follow META', async () => {
    const metadata = await as('metadata').connection();
    const responder = metadata.subscribe(subjects.rpc('metadata', 'bucket.get'), {
      queue: subjects.rpc('metadata', 'bucket.get'),
      callback: (_err, msg) => msg.respond(new TextEncoder().encode('{"ok":true}')),
    });
    await metadata.flush();
    const accessManager = as('access');
    const access = await accessManager.connection();
    const reply = await access.request(subjects.rpc('metadata', 'bucket.get'), new TextEncoder().encode('{}'), { timeout: 2_000 });
    expect(new TextDecoder().decode(reply.data)).toBe('{"ok":true}');
    responder.unsubscribe();

    const seen: string[] = [];
    const tail = new StreamTail(accessManager, { stream: subjects.streamName('META'), subject: subjects.bucketWildcard(), onMessage: (m) => seen.push(m.subject), retryMs: 100 });
    tail.start();
    try {
      await eventually(async () => {
        await (await as('metadata').jetstream()).publish(subjects.bucket('tail-probe'), new TextEncoder().encode('{}'));
        return seen.includes(subjects.bucket('tail-probe'));
      }, 5_000, 200);
    } finally {
      await tail.stop();
    }
  });

  it('lets no service delete a stream (the JetStream API minus its destructive calls)', async () => {
    const sync = as('sync');
    const jsm = await (await sync.connection()).jetstreamManager({ timeout: 1_000 });
    await expect(jsm.streams.delete(subjects.streamName('META'))).rejects.toThrow(/permissions violation/i);
    const info = await (await as('metadata').jetstreamManager()).streams.info(subjects.streamName('META'));
    expect(info.state.messages).toBeGreaterThan(0);
  });

  it('refuses a subscription outside the subjects a service may read', async () => {
    const access = await as('access').connection();
    const sub = access.subscribe(subjects.rpc('metadata', '>'));
    // nats.js closes a subscription the server refused, with the violation as its error.
    const closed = await within(sub.closed, 2_000);
    expect(closed).not.toBe('timeout');
    expect(sub.isClosed()).toBe(true);
  });
});
