import { createHash } from 'node:crypto';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ClusterKeys, ErrorCodes, MESSAGE_AUTH_HEADER, signMessage, subjectsFor, verifyMessage } from '@cairn/protocol';
import { headers as natsHeaders, type Msg } from 'nats';
import type { MessageAuthenticator } from './message-auth';
import type { MessagingConfig } from './messaging.config';
import { JetStreamTransport } from './jetstream.transport';
import { LARGE_REQUEST_HEADER, maxBodyBytes, requestPiecesSubject, type LargeMessageDescriptor } from './large-replies';
import { NatsConnectionManager } from './nats-connection';
import { RpcClient, rpcCodec } from './rpc';
import { PassThroughRpcExceptionFilter } from './rpc-exception.filter';
import { eventually } from '../test/nats-fixture';
import { startNatsServer, type NatsServerProcess } from '../test/nats-server-process';

/** A server that takes messages of at most 64 KiB: a request of a few hundred KiB is several of them. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const RPC_TIMEOUT_MS = 20_000;

@Controller()
class DigestController {
  /** Answers what it was given: how many items, their bytes, their SHA-256 (and, when asked, a large reply). */
  @MessagePattern('probe.digest')
  digest(@Payload() payload: { items: string[]; replyChars?: number }) {
    const joined = payload.items.join('\n');
    return {
      items: payload.items.length,
      bytes: Buffer.byteLength(joined),
      sha256: createHash('sha256').update(joined).digest('hex'),
      last: payload.items[payload.items.length - 1],
      ...(payload.replyChars ? { padding: 'r'.repeat(payload.replyChars) } : {}),
    };
  }
}

@Module({ controllers: [DigestController] })
class DigestModule {}

function authenticatorFor(secret: string, caller: string): MessageAuthenticator {
  const key = new ClusterKeys(secret).key('internal-nats');
  return {
    sign: (subject, payload) => signMessage(key, caller, subject, payload, Date.now()),
    verify: (header, subject, payload) => verifyMessage(key, header, subject, payload, Date.now()),
  };
}
const clusterAuth = authenticatorFor('large-requests-test-cluster-secret-000000000', 'test/large-requests');

const itemsOf = (count: number, bytes: number) => Array.from({ length: count }, (_, i) => `${String(i).padStart(6, '0')}:${'x'.repeat(bytes - 7)}`);
const digestOf = (items: string[]) => createHash('sha256').update(items.join('\n')).digest('hex');

describe('RPC requests larger than a NATS message (own nats-server, max_payload 64 KiB)', () => {
  let server: NatsServerProcess;
  let responder: NatsConnectionManager;
  let caller: NatsConnectionManager;
  let app: INestMicroservice;
  let rpc: RpcClient;
  const namespace = `t${Math.random().toString(16).slice(2, 12)}`;
  const config = (instance: string): MessagingConfig => ({ natsUrl: server.url, namespace, region: 'test', serviceName: 'probe', instance });

  beforeAll(async () => {
    server = await startNatsServer({ config: `max_payload: ${MAX_PAYLOAD_BYTES}` });
    responder = new NatsConnectionManager(config('probe-1'));
    caller = new NatsConnectionManager(config('caller-1'));
    const transport = new JetStreamTransport(responder, config('probe-1'), clusterAuth);
    app = await NestFactory.createMicroservice(DigestModule, { strategy: transport, logger: false });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
    await transport.started;
    rpc = new RpcClient(caller, namespace, clusterAuth);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await caller?.close();
    await responder?.close();
    await server?.stop();
  }, 30_000);

  it('runs on a server whose max_payload is 64 KiB', async () => {
    expect((await caller.connection()).info?.max_payload).toBe(MAX_PAYLOAD_BYTES);
  });

  it('sends a request several times max_payload: held by the caller, fetched by the responder in pieces, answered', async () => {
    const items = itemsOf(400, 1_000); // ~400 KB: six times max_payload
    expect(rpcCodec.encode({ items }).length).toBeGreaterThan(6 * MAX_PAYLOAD_BYTES);
    const reply = await rpc.request<{ items: number; bytes: number; sha256: string; last: string }>('probe', 'digest', { items }, { timeoutMs: RPC_TIMEOUT_MS });
    expect(reply).toEqual({ items: 400, bytes: 400 * 1_000 + 399, sha256: digestOf(items), last: items[399] });
  }, 60_000);

  it('sends a large request and fetches its large reply', async () => {
    const items = itemsOf(300, 700);
    const reply = await rpc.request<{ items: number; sha256: string; padding: string }>('probe', 'digest', { items, replyChars: 500_000 }, { timeoutMs: RPC_TIMEOUT_MS });
    expect(reply.items).toBe(300);
    expect(reply.sha256).toBe(digestOf(items));
    expect(reply.padding).toHaveLength(500_000);
  }, 60_000);

  it('sends a request that fits one message as before: the body itself, no descriptor', async () => {
    const nc = await responder.connection();
    const seen: Msg[] = [];
    const spy = nc.subscribe(subjectsFor(namespace).rpc('probe', 'digest'), { callback: (_e, m) => seen.push(m) });
    await nc.flush();
    try {
      const items = itemsOf(10, 100);
      const reply = await rpc.request<{ sha256: string }>('probe', 'digest', { items }, { timeoutMs: RPC_TIMEOUT_MS });
      expect(reply.sha256).toBe(digestOf(items));
      await eventually(() => seen.length === 1, 5_000);
      expect(seen[0].headers?.get(LARGE_REQUEST_HEADER) ?? '').toBe('');
      expect(rpcCodec.decode(seen[0].data)).toEqual({ items });
    } finally {
      spy.unsubscribe();
    }
  });

  it('answers a request whose pieces cannot be fetched with an error in the usual shape, at once', async () => {
    const nc = await caller.connection();
    const subject = subjectsFor(namespace).rpc('probe', 'digest');
    const ask = async (descriptor: LargeMessageDescriptor) => {
      const body = new TextEncoder().encode(JSON.stringify(descriptor));
      const h = natsHeaders();
      h.set(LARGE_REQUEST_HEADER, '1');
      h.set(MESSAGE_AUTH_HEADER, clusterAuth.sign(subject, body));
      const started = Date.now();
      const reply = rpcCodec.decode((await nc.request(subject, body, { timeout: RPC_TIMEOUT_MS, headers: h })).data);
      return { reply, ms: Date.now() - started };
    };
    const descriptor = { subject: requestPiecesSubject(namespace, 'probe'), id: 'gone', bytes: 200_000, pieces: 4, sha256: '0'.repeat(64) };
    // Nobody serves that subject (the caller went away, or never held it): no responders, so at once.
    const gone = await ask(descriptor);
    expect(gone.reply).toMatchObject({ ok: false, error: { code: ErrorCodes.Timeout, message: expect.stringMatching(/piece 0 of 4/) } });
    expect(gone.ms).toBeLessThan(RPC_TIMEOUT_MS / 2);
    // Pieces are fetched only from where callers of this service serve them.
    const elsewhere = await ask({ ...descriptor, subject: subjectsFor(namespace).rpc('probe', 'digest') });
    expect(elsewhere.reply).toMatchObject({ ok: false, error: { code: ErrorCodes.InvalidCommand } });
  });

  it('lets go of a held request once it is answered', async () => {
    const items = itemsOf(200, 1_000);
    await rpc.request('probe', 'digest', { items }, { timeoutMs: RPC_TIMEOUT_MS });
    const holders = (rpc as unknown as { largeRequests: Map<string, { holder: { holding(): unknown } }> }).largeRequests;
    expect(holders.get('probe')?.holder.holding()).toEqual({ messages: 0, bytes: 0 });
    expect(maxBodyBytes(await caller.connection())).toBeLessThan(MAX_PAYLOAD_BYTES);
  });
});
