import { randomUUID } from 'node:crypto';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { subjectsFor, type EventEnvelope } from '@cairn/protocol';
import { JetStreamEventStore } from './jetstream-event-store';
import { DEAD_LETTER_ERROR_HEADER } from './dead-letter';
import { JetStreamTransport, type JetStreamBatch } from './jetstream.transport';
import { PassThroughRpcExceptionFilter } from './rpc-exception.filter';
import { eventually, natsFixture } from '../test/nats-fixture';

const batches: number[][] = [];
const applied: number[] = [];
const POISON = 1_000;
let failNextBatches = 0;

@Controller()
class BatchController {
  @EventPattern('meta.batch.>', { stream: 'META', durable: 'batch', batchMaxMessages: 16, maxDeliveries: 3, backoffMs: [50] })
  async onBatch(@Payload() batch: JetStreamBatch) {
    // The first batch is slow, so that the messages behind it queue up.
    if (batches.length === 0) await new Promise((r) => setTimeout(r, 300));
    const ns = batch.items.map((i) => (i.payload as EventEnvelope<'N', { n: number }>).data.n);
    batches.push(ns);
    if (failNextBatches > 0) {
      failNextBatches -= 1;
      throw new Error('transient failure');
    }
    if (ns.includes(POISON)) throw new Error('poison in batch');
    applied.push(...ns);
  }
}

@Module({ controllers: [BatchController] })
class BatchModule {}

describe('JetStreamTransport batch delivery on real NATS', () => {
  let fixture: Awaited<ReturnType<typeof natsFixture>>;
  let store: JetStreamEventStore;
  let app: INestMicroservice;

  const publish = (n: number) =>
    store.publish(subjectsFor(fixture.namespace).prefix(`meta.batch.${n}`), {
      id: randomUUID(), type: 'N', schemaVersion: 1, aggregateId: String(n), region: 'test', hlc: '0',
      causationId: null, correlationId: null, occurredAt: new Date().toISOString(), data: { n },
    });

  beforeAll(async () => {
    fixture = await natsFixture('batch');
    store = new JetStreamEventStore(fixture.connection, fixture.namespace);
    const transport = new JetStreamTransport(fixture.connection, fixture.config);
    app = await NestFactory.createMicroservice(BatchModule, { strategy: transport, logger: false });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
    await transport.started;
  });
  afterAll(async () => {
    await app.close();
    await fixture.teardown();
  });

  it('hands over messages in stream order, several at a time when they queue up', async () => {
    for (let n = 1; n <= 60; n++) await publish(n);
    await eventually(() => applied.length === 60);
    expect(applied).toEqual([...Array(60).keys()].map((i) => i + 1));
    expect(batches.every((b) => b.length <= 16)).toBe(true);
    expect(batches.some((b) => b.length > 1)).toBe(true);
  });

  it('retries a failed batch in place, keeping order', async () => {
    applied.length = 0;
    failNextBatches = 1;
    for (let n = 101; n <= 110; n++) await publish(n);
    await eventually(() => applied.length === 10);
    expect(applied).toEqual([...Array(10).keys()].map((i) => i + 101));
  });

  it('parks the one message that keeps failing and applies the rest of its batch in order', async () => {
    applied.length = 0;
    await Promise.all([publish(201), publish(POISON), publish(202)]);
    await eventually(() => applied.includes(202), 15_000);
    expect(applied).toEqual([201, 202]);
    const jsm = await fixture.connection.jetstreamManager();
    const s = subjectsFor(fixture.namespace);
    const parked = await jsm.streams.getMessage(s.streamName('DLQ'), { last_by_subj: s.deadLetter('META', 'batch') });
    expect(parked.header.get(DEAD_LETTER_ERROR_HEADER)).toContain('poison in batch');
  });
});
