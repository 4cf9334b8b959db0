import { randomUUID } from 'node:crypto';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { CairnError, ClusterKeys, ErrorCodes, MESSAGE_AUTH_HEADER, signMessage, subjectsFor, verifyMessage, type EventEnvelope } from '@cairn/protocol';
import { headers as natsHeaders } from 'nats';
import type { MessageAuthenticator } from './message-auth';
import { JetStreamEventStore } from './jetstream-event-store';
import { DEAD_LETTER_ERROR_HEADER, DEAD_LETTER_SEQUENCE_HEADER } from './dead-letter';
import { JetStreamContext, JetStreamTransport } from './jetstream.transport';
import { fetchLargeMessage, LARGE_REPLY_HEADER, type LargeMessageDescriptor } from './large-replies';
import { RpcClient, rpcCodec } from './rpc';
import { PassThroughRpcExceptionFilter } from './rpc-exception.filter';
import { eventually, natsFixture } from '../test/nats-fixture';

type Seen = { n: number; delivery: number; at: number };
const seen: Seen[] = [];
const failUntilDelivery = new Map<number, number>();

@Controller()
class ProbeController {
  @EventPattern('meta.probe.>', { stream: 'META', durable: 'probe', maxDeliveries: 3, backoffMs: [150, 150, 150] })
  onProbe(@Payload() envelope: EventEnvelope<'Probe', { n: number }>, @Ctx() ctx: JetStreamContext) {
    seen.push({ n: envelope.data.n, delivery: ctx.deliveryCount, at: Date.now() });
    const until = failUntilDelivery.get(envelope.data.n) ?? 0;
    if (ctx.deliveryCount <= until) throw new Error(`probe ${envelope.data.n} refused on delivery ${ctx.deliveryCount}`);
  }

  @MessagePattern('probe.echo')
  echo(@Payload() payload: { text: string }) {
    if (payload.text === 'fail') throw new CairnError('NoSuchKey', 'no such key: fail');
    return { echoed: payload.text };
  }

  @MessagePattern('probe.big')
  big(@Payload() payload: { chars: number }) {
    return { text: 'large reply '.repeat(Math.ceil(payload.chars / 12)).slice(0, payload.chars) };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

function authenticatorFor(secret: string, caller: string): MessageAuthenticator {
  const key = new ClusterKeys(secret).key('internal-nats');
  return {
    sign: (subject, payload) => signMessage(key, caller, subject, payload, Date.now()),
    verify: (header, subject, payload) => verifyMessage(key, header, subject, payload, Date.now()),
  };
}
const clusterAuth = authenticatorFor('messaging-test-cluster-secret-0000000000000', 'test/transport');

describe('JetStreamTransport on real NATS', () => {
  let fixture: Awaited<ReturnType<typeof natsFixture>>;
  let store: JetStreamEventStore;
  let app: INestMicroservice;

  async function startApp(): Promise<void> {
    const transport = new JetStreamTransport(fixture.connection, fixture.config, clusterAuth);
    app = await NestFactory.createMicroservice(ProbeModule, { strategy: transport, logger: false });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
    await transport.started;
  }

  async function publish(n: number): Promise<number> {
    const subject = subjectsFor(fixture.namespace).prefix(`meta.probe.${n}`);
    const env: EventEnvelope = {
      id: randomUUID(),
      type: 'Probe',
      schemaVersion: 1,
      aggregateId: String(n),
      region: 'test',
      hlc: '0',
      causationId: null,
      correlationId: null,
      occurredAt: new Date().toISOString(),
      data: { n },
    };
    return (await store.append(subject, [env], 0)).lastSequence;
  }

  beforeAll(async () => {
    fixture = await natsFixture('probe');
    store = new JetStreamEventStore(fixture.connection, fixture.namespace);
    await startApp();
  });
  afterAll(async () => {
    await app.close();
    await fixture.teardown();
  });

  it('redelivers a failing event with backoff until its handler succeeds', async () => {
    failUntilDelivery.set(1, 2);
    await publish(1);
    await eventually(() => seen.filter((s) => s.n === 1).length === 3);
    await new Promise((r) => setTimeout(r, 400));
    const deliveries = seen.filter((s) => s.n === 1);
    expect(deliveries.map((d) => d.delivery)).toEqual([1, 2, 3]);
    expect(deliveries[1].at - deliveries[0].at).toBeGreaterThanOrEqual(120);
  });

  it('parks an event in the dead-letter stream with its error after the last delivery, and later events still flow', async () => {
    failUntilDelivery.set(2, Number.POSITIVE_INFINITY);
    const parkedSeq = await publish(2);
    await publish(3);

    await eventually(() => seen.some((s) => s.n === 3));
    await eventually(() => seen.filter((s) => s.n === 2).length === 3);

    const jsm = await fixture.connection.jetstreamManager();
    const s = subjectsFor(fixture.namespace);
    const parked = await eventually(async () => {
      try {
        return await jsm.streams.getMessage(s.streamName('DLQ'), { last_by_subj: s.deadLetter('META', 'probe') });
      } catch {
        return undefined;
      }
    });
    expect(parked.header.get(DEAD_LETTER_ERROR_HEADER)).toContain('probe 2 refused on delivery 3');
    expect(parked.header.get(DEAD_LETTER_SEQUENCE_HEADER)).toBe(String(parkedSeq));
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.filter((s) => s.n === 2)).toHaveLength(3);
  });

  it('does not redeliver acknowledged events after the consumer restarts', async () => {
    await publish(4);
    await eventually(() => seen.some((s) => s.n === 4));
    const before = seen.length;

    await app.close();
    await startApp();
    await publish(5);

    await eventually(() => seen.some((s) => s.n === 5));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.slice(before).map((s) => s.n)).toEqual([5]);
  });

  it('answers request/reply with a typed value or a typed error, and a missing responder is NO_HANDLER', async () => {
    const rpc = new RpcClient(fixture.connection, fixture.namespace, clusterAuth);
    await expect(rpc.request('probe', 'echo', { text: 'hi' })).resolves.toEqual({ echoed: 'hi' });
    await expect(rpc.request('probe', 'echo', { text: 'fail' })).rejects.toMatchObject({ code: 'NoSuchKey', message: 'no such key: fail' });
    await expect(rpc.request('probe', 'nothing-here', {}, { timeoutMs: 500 })).rejects.toMatchObject({ code: ErrorCodes.NoHandler });
  });

  it('refuses a request that is unsigned or signed with another secret, before the handler runs', async () => {
    const unsigned = new RpcClient(fixture.connection, fixture.namespace);
    await expect(unsigned.request('probe', 'echo', { text: 'hi' })).rejects.toMatchObject({ code: ErrorCodes.Unauthenticated });
    const stranger = new RpcClient(fixture.connection, fixture.namespace, authenticatorFor('another-cluster-entirely-00000000000000000', 'test/stranger'));
    await expect(stranger.request('probe', 'echo', { text: 'fail' })).rejects.toMatchObject({ code: ErrorCodes.Unauthenticated });
  });

  it('answers with a reply larger than a NATS message: held by the responder, fetched in pieces, checked, then let go', async () => {
    const rpc = new RpcClient(fixture.connection, fixture.namespace, clusterAuth);
    const chars = 3 * 1024 * 1024 + 7;
    const reply = await rpc.request<{ text: string }>('probe', 'big', { chars });
    expect(reply.text).toHaveLength(chars);
    expect(reply.text.startsWith('large reply large reply')).toBe(true);
    // Small replies are unchanged.
    await expect(rpc.request('probe', 'big', { chars: 10 })).resolves.toEqual({ text: 'large repl' });
  });

  it('serves a held reply once, and only to a signed fetch', async () => {
    const nc = await fixture.connection.connection();
    const subject = subjectsFor(fixture.namespace).rpc('probe', 'big');
    const data = rpcCodec.encode({ chars: 2 * 1024 * 1024 });
    const signed = () => {
      const h = natsHeaders();
      h.set(MESSAGE_AUTH_HEADER, clusterAuth.sign(subject, data));
      return h;
    };
    const first = await nc.request(subject, data, { headers: signed(), timeout: 5_000 });
    expect(first.headers?.get(LARGE_REPLY_HEADER)).toBe('1');
    const descriptor = JSON.parse(new TextDecoder().decode(first.data)) as LargeMessageDescriptor;
    expect(descriptor.pieces).toBeGreaterThan(1);

    // Unsigned: no answer at all.
    await expect(fetchLargeMessage(nc, descriptor, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const body = await fetchLargeMessage(nc, descriptor, { timeoutMs: 5_000, authenticator: clusterAuth });
    expect(rpcCodec.decode(body)).toMatchObject({ ok: true, value: { text: expect.stringMatching(/^large reply/) } });
    // Fetched to its end, it is gone.
    await expect(fetchLargeMessage(nc, descriptor, { timeoutMs: 5_000, authenticator: clusterAuth })).rejects.toMatchObject({ code: ErrorCodes.Timeout });
    // A descriptor whose hash does not match what is served is refused.
    const again = await nc.request(subject, data, { headers: signed(), timeout: 5_000 });
    const forged = { ...(JSON.parse(new TextDecoder().decode(again.data)) as LargeMessageDescriptor), sha256: '0'.repeat(64) };
    await expect(fetchLargeMessage(nc, forged, { timeoutMs: 5_000, authenticator: clusterAuth })).rejects.toMatchObject({ code: ErrorCodes.Internal });
  });
});
