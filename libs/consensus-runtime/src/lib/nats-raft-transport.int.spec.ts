import { randomBytes } from 'node:crypto';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import type { Message } from '@cairn/consensus';
import { ClusterKeys, MESSAGE_AUTH_HEADER, signMessage, subjectsFor, verifyMessage } from '@cairn/protocol';
import { RAFT_PIECE_HEADER } from './message-pieces';
import { NatsRaftTransportAdapter, type RaftMessageAuthenticator } from './nats-raft-transport.adapter';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const WAIT_BOUND_MS = 10_000;

const snapshotMessage = (chars: number, seed: string): Message => ({
  type: 'snapshot',
  from: 'n1',
  to: 'n2',
  term: 3,
  snapshot: { metadata: { index: 42, term: 3, confState: { voters: ['n1', 'n2', 'n3'] } }, data: seed.repeat(Math.ceil(chars / seed.length)).slice(0, chars) },
});

describe('NatsRaftTransportAdapter over real NATS', () => {
  const natsKey = new ClusterKeys('raft-transport-test-cluster-secret-0000000').key('internal-nats');
  const authenticatorOf = (id: string): RaftMessageAuthenticator => ({
    sign: (subject, payload) => signMessage(natsKey, `lock-manager/${id}`, subject, payload, Date.now()),
    verify: (header, subject, payload) => verifyMessage(natsKey, header, subject, payload, Date.now()),
  });
  const namespace = `t${randomBytes(4).toString('hex')}`;
  const received: Message[] = [];
  const refused: string[] = [];
  let sender: NatsRaftTransportAdapter;
  let smallPieces: NatsRaftTransportAdapter;
  let receiver: NatsRaftTransportAdapter;
  let raw: NatsConnection;

  const waitForLength = async (list: readonly unknown[], count: number, what: string) => {
    const deadline = Date.now() + WAIT_BOUND_MS;
    while (list.length < count) {
      if (Date.now() > deadline) throw new Error(`${what}: ${list.length} of ${count}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const waitForReceived = (count: number) => waitForLength(received, count, 'messages received');

  beforeAll(async () => {
    receiver = await NatsRaftTransportAdapter.connect({ servers: NATS_URL, namespace, group: 'locks', node: 'n2', authenticator: authenticatorOf('n2'), onRefused: (r) => refused.push(r) });
    receiver.onMessage((m) => received.push(m));
    sender = await NatsRaftTransportAdapter.connect({ servers: NATS_URL, namespace, group: 'locks', node: 'n1', authenticator: authenticatorOf('n1') });
    smallPieces = await NatsRaftTransportAdapter.connect({ servers: NATS_URL, namespace, group: 'locks', node: 'n1', authenticator: authenticatorOf('n1'), maxMessageBytes: 64 * 1024 });
    raw = await connect({ servers: NATS_URL });
  });

  afterAll(async () => {
    await Promise.all([sender.close(), smallPieces.close(), receiver.close(), raw.close()]);
  });

  beforeEach(() => {
    received.length = 0;
    refused.length = 0;
  });

  it('delivers a snapshot several times larger than the server takes in one message', async () => {
    const big = snapshotMessage(5 * 1024 * 1024 + 17, 'lock-table/');
    sender.send([big]);
    await waitForReceived(1);
    expect(received).toEqual([big]);
  });

  it('keeps small messages whole and big ones in pieces, in any mix', async () => {
    const heartbeat: Message = { type: 'heartbeat', from: 'n1', to: 'n2', term: 3, commit: 41, context: '' };
    const big = snapshotMessage(300 * 1024, 'abc');
    smallPieces.send([heartbeat]);
    smallPieces.send([big, heartbeat]);
    await waitForReceived(3);
    expect(received).toEqual([heartbeat, big, heartbeat]);
  });

  it('drops a piece whose number was changed after signing, and a message missing it never arrives', async () => {
    const subject = subjectsFor(namespace).raft('locks', 'n2');
    const spy = await connect({ servers: NATS_URL });
    const pieces: { header: string; auth: string; data: Uint8Array }[] = [];
    const sub = spy.subscribe(subject, { max: 5, callback: (_e, m) => pieces.push({ header: m.headers!.get(RAFT_PIECE_HEADER), auth: m.headers!.get(MESSAGE_AUTH_HEADER), data: m.data }) });
    await spy.flush();
    smallPieces.send([snapshotMessage(4 * 64 * 1024 + 1, 'xyz')]);
    await waitForReceived(1);
    // The spy is another connection: the receiver having the whole message says nothing about when
    // the spy's copies of the pieces arrive.
    await waitForLength(pieces, 5, "pieces the spy saw");
    expect(pieces).toHaveLength(5);
    sub.unsubscribe();
    await spy.close();
    received.length = 0;

    // Replayed with the first two pieces' numbers swapped (signatures unchanged): both refused.
    const [id, , count] = pieces[0].header.split(' ');
    const swapped = [
      { ...pieces[0], header: `${id}x 1 ${count}` },
      { ...pieces[1], header: `${id}x 0 ${count}` },
      ...pieces.slice(2).map((p, i) => ({ ...p, header: `${id}x ${i + 2} ${count}` })),
    ];
    for (const p of swapped) {
      const h = natsHeaders();
      h.set(RAFT_PIECE_HEADER, p.header);
      h.set(MESSAGE_AUTH_HEADER, p.auth);
      raw.publish(subject, p.data, { headers: h });
    }
    await raw.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(refused).toHaveLength(5);
    expect(received).toEqual([]);
  });
});
