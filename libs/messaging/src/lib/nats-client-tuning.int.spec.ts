import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { NATS_URL } from '../test/nats-fixture';
import { coalesceSocketWrites } from './nats-client-tuning';

/** The socket sends of a connection, counted (nats.js keeps its transport on `protocol`). */
function countSends(nc: NatsConnection): { readonly count: () => number } {
  const transport = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
  let sends = 0;
  const send = transport.send.bind(transport);
  transport.send = (frame: Uint8Array) => {
    sends += 1;
    send(frame);
  };
  return { count: () => sends };
}

describe('coalesceSocketWrites on real NATS', () => {
  let publisher: NatsConnection;
  let subscriber: NatsConnection;
  const subject = `t${randomBytes(5).toString('hex')}.coalesce`;

  beforeAll(async () => {
    coalesceSocketWrites();
    [publisher, subscriber] = await Promise.all([connect({ servers: NATS_URL }), connect({ servers: NATS_URL })]);
  });
  afterAll(async () => {
    await Promise.all([publisher.drain(), subscriber.drain()]);
  });

  it('sends messages published across many promise continuations of one turn in one write, all of them, in order', async () => {
    const received: string[] = [];
    const sub = subscriber.subscribe(subject, { callback: (_err, msg) => received.push(msg.string()) });
    await subscriber.flush();
    const sends = countSends(publisher);
    const published = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await new Promise<void>((resolve) => {
      let chain = Promise.resolve();
      for (const text of published) chain = chain.then(() => publisher.publish(subject, text));
      void chain.then(() => setImmediate(resolve));
    });
    expect(sends.count()).toBe(1);
    await publisher.flush();
    await subscriber.flush();
    expect(received).toEqual(published);
    sub.unsubscribe();
  });

  it('answers requests and delivers what was queued just before a drain', async () => {
    const echo = subscriber.subscribe(`${subject}.echo`, { callback: (_err, msg) => msg.respond(msg.data) });
    await subscriber.flush();
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => publisher.request(`${subject}.echo`, `r${i}`, { timeout: 5_000 })));
    expect(replies.map((m) => m.string())).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    echo.unsubscribe();

    const lastWords: string[] = [];
    subscriber.subscribe(`${subject}.last`, { callback: (_err, msg) => lastWords.push(msg.string()) });
    await subscriber.flush();
    const leaving = await connect({ servers: NATS_URL });
    for (let i = 0; i < 5; i++) leaving.publish(`${subject}.last`, `w${i}`);
    await leaving.drain();
    await subscriber.flush();
    expect(lastWords).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  });
});
