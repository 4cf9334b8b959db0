import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClusterKeys, signMessage, subjectsFor, verifyMessage } from '@cairn/protocol';
import { nkeys, type NatsConnection } from 'nats';
import { fetchLargeMessage, LARGE_REPLY_HEADER, LargeMessageHolder, replyPiecesSubject, requestBodyOf, requestPiecesPrefix, type LargeMessageDescriptor } from './large-replies';
import type { MessageAuthenticator } from './message-auth';
import type { MessagingConfig } from './messaging.config';
import { natsPasswordVariable, natsServerAuthorization, type NatsServiceUser } from './nats-auth-permissions';
import { NatsConnectionManager } from './nats-connection';
import { RpcClient, rpcCodec } from './rpc';
import { ensureStreams } from './stream-provisioning';
import { StreamTail } from './stream-tail';
import { eventually } from '../test/nats-fixture';
import { startNatsServer, within, type NatsServerProcess } from '../test/nats-server-process';

/**
 * A real nats-server of its own (the nats-server binary on PATH), configured the way a deployment
 * is: one user per service with the generated least-privilege permissions, passwords read from
 * the server's environment, JetStream in a temporary directory.
 */

/** How long a connection that must be refused is given to (not) come up: a few of the manager's 1 s retries. */
const REFUSED_WITHIN_MS = 1_500;

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
  let seedFile: string;
  let url: string;
  let server: NatsServerProcess;
  const managers: NatsConnectionManager[] = [];

  function manager(extra: Partial<MessagingConfig>): NatsConnectionManager {
    const m = new NatsConnectionManager({ natsUrl: url, namespace, region: 'test', serviceName: 'auth-test', instance: `auth-test-${managers.length}`, ...extra });
    managers.push(m);
    return m;
  }
  const as = (user: NatsServiceUser) => manager({ natsUser: user, natsPassword: passwords.get(user) });

  beforeAll(async () => {
    const env: Record<string, string> = {};
    for (const user of ['access', 'metadata', 'sync', 'admin'] as const) {
      passwords.set(user, randomBytes(12).toString('hex'));
      // nats-server parses a variable's value as a config value: quoted, any password reads as a string.
      env[natsPasswordVariable(user)] = JSON.stringify(passwords.get(user)!);
    }
    for (const user of ['storage', 'lock-manager', 'scheduler', 'monitoring'] as const) env[natsPasswordVariable(user)] = JSON.stringify(randomBytes(12).toString('hex'));
    // The generated users (those without a password in the environment cannot log in), and one nkey user with every right.
    const authorization = natsServerAuthorization(namespace).replace('  users: [', `  users: [\n    { nkey: "${nkey.getPublicKey()}" }`);
    server = await startNatsServer({ config: authorization, env });
    url = server.url;
    seedFile = path.join(server.dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(nkey.getSeed())}\n`, { mode: 0o600 });
  }, 10_000);

  afterAll(async () => {
    await Promise.all(managers.map((m) => m.close().catch(() => undefined)));
    await server?.stop();
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

  it('lets access fetch a reply larger than one message from metadata, piece by piece, within their permissions', async () => {
    const key = new ClusterKeys('nats-auth-test-cluster-secret-000000000000').key('internal-nats');
    const auth: MessageAuthenticator = {
      sign: (subject, payload) => signMessage(key, 'test/caller', subject, payload, Date.now()),
      verify: (header, subject, payload) => verifyMessage(key, header, subject, payload, Date.now()),
    };
    const metadata = await as('metadata').connection();
    const holder = new LargeMessageHolder(metadata, replyPiecesSubject(namespace, 'metadata'), auth);
    const big = new Uint8Array(3 * 1024 * 1024).fill(7);
    const responder = metadata.subscribe(subjects.rpc('metadata', 'object.list-v2'), { callback: (_err, msg) => holder.respond(msg, big) });
    await metadata.flush();
    const access = await as('access').connection();
    const first = await access.request(subjects.rpc('metadata', 'object.list-v2'), new TextEncoder().encode('{}'), { timeout: 2_000 });
    expect(first.headers?.get(LARGE_REPLY_HEADER)).toBe('1');
    const whole = await fetchLargeMessage(access, JSON.parse(new TextDecoder().decode(first.data)) as LargeMessageDescriptor, { timeoutMs: 2_000, authenticator: auth });
    expect(Buffer.from(whole).equals(big)).toBe(true);
    expect(holder.holding()).toEqual({ messages: 0, bytes: 0 });
    responder.unsubscribe();
    holder.close();
  });

  it('lets access send metadata a request larger than one message: access serves the pieces, metadata fetches them, within their permissions', async () => {
    const key = new ClusterKeys('nats-auth-test-cluster-secret-000000000000').key('internal-nats');
    const auth: MessageAuthenticator = {
      sign: (subject, payload) => signMessage(key, 'test/caller', subject, payload, Date.now()),
      verify: (header, subject, payload) => verifyMessage(key, header, subject, payload, Date.now()),
    };
    const metadata = await as('metadata').connection();
    const metadataErrors = serverErrors(metadata);
    const subject = subjects.rpc('metadata', 'upload.complete');
    const responder = metadata.subscribe(subject, {
      callback: (_err, msg) =>
        void (async () => {
          const body = await requestBodyOf(metadata, msg, { timeoutMs: 2_000, authenticator: auth, subjectPrefix: requestPiecesPrefix(namespace, 'metadata') });
          msg.respond(rpcCodec.encode({ ok: true, value: { bytes: body.length, first: body[1], last: body[body.length - 2] } }));
        })().catch((error: Error) => msg.respond(rpcCodec.encode({ ok: false, error: { code: 'INTERNAL', message: error.message } }))),
    });
    await metadata.flush();
    const accessManager = as('access');
    const accessErrors = serverErrors(await accessManager.connection());
    const payload = 'p'.repeat(3 * 1024 * 1024);
    const reply = await new RpcClient(accessManager, namespace, auth).request<{ bytes: number }>('metadata', 'upload.complete', payload, { timeoutMs: 5_000 });
    expect(reply).toEqual({ bytes: payload.length + 2, first: 'p'.charCodeAt(0), last: 'p'.charCodeAt(0) });
    expect(accessErrors).toEqual([]);
    expect(metadataErrors).toEqual([]);
    responder.unsubscribe();
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
