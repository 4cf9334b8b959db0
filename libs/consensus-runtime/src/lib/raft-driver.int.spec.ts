import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ClusterKeys, signMessage, subjectsFor, verifyMessage } from '@cairn/protocol';
import type { Entry, ReplicatedStateMachine, Snapshot } from '@cairn/consensus';
import { FileLogAdapter } from './file-log.adapter';
import { NatsRaftTransportAdapter, type RaftMessageAuthenticator } from './nats-raft-transport.adapter';
import { RaftDriver } from './raft-driver';

const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const TICK_MS = 20;
const WAIT_BOUND_MS = 10_000;

/** An append-only list of strings: easy to compare across replicas. */
class ListStateMachine implements ReplicatedStateMachine<number> {
  items: string[] = [];
  apply(entry: Entry): number {
    if (entry.kind === 'normal' && entry.data !== '') this.items.push(entry.data);
    return this.items.length;
  }
  restore(snapshot: Snapshot): void {
    this.items = JSON.parse(snapshot.data) as string[];
  }
  snapshotData(): string {
    return JSON.stringify(this.items);
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_BOUND_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
}

describe('RaftDriver over real NATS and file logs', () => {
  const ids = ['n1', 'n2', 'n3'];
  const natsKey = new ClusterKeys('raft-driver-test-cluster-secret-000000000').key('internal-nats');
  const authenticatorOf = (id: string): RaftMessageAuthenticator => ({
    sign: (subject, payload) => signMessage(natsKey, `lock-manager/${id}`, subject, payload, Date.now()),
    verify: (header, subject, payload) => verifyMessage(natsKey, header, subject, payload, Date.now()),
  });
  const namespace = `t${randomBytes(4).toString('hex')}`;
  let dir: string;
  const nodes = new Map<string, { driver: RaftDriver<number>; sm: ListStateMachine; log: FileLogAdapter }>();
  const reported = new Map<string, { role: string; lead: string }[]>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-raft-int-'));
    for (const id of ids) {
      const log = FileLogAdapter.open({ dir: join(dir, id), bootstrap: { voters: ids } });
      const transport = await NatsRaftTransportAdapter.connect({ servers: NATS_URL, namespace, group: 'locks', node: id, authenticator: authenticatorOf(id) });
      const sm = new ListStateMachine();
      reported.set(id, []);
      const driver = new RaftDriver<number>({
        id,
        storage: log,
        transport,
        stateMachine: sm,
        tickMs: TICK_MS,
        snapshotEveryEntries: 8,
        onLeadershipChange: (status) => reported.get(id)!.push(status),
      });
      nodes.set(id, { driver, sm, log });
    }
    for (const n of nodes.values()) n.driver.start();
  });

  afterAll(async () => {
    for (const n of nodes.values()) {
      await n.driver.stop();
      n.log.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const leaderAmong = (alive: string[]) =>
    alive.find((id) => nodes.get(id)!.driver.status().role === 'leader' && alive.every((o) => nodes.get(o)!.driver.status().lead === id));

  it('elects, replicates, loses a node and keeps committing', async () => {
    const first = await waitFor('a leader', () => leaderAmong(ids));
    const leader = nodes.get(first)!;
    // Each node has reported its role and the leader it knows, once per change.
    for (const id of ids) {
      const changes = reported.get(id)!;
      expect(changes.at(-1)).toEqual({ role: id === first ? 'leader' : 'follower', lead: first });
      changes.forEach((c, i) => i === 0 || expect(c).not.toEqual(changes[i - 1]));
    }
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((x) => leader.driver.propose(x)));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    await leader.driver.linearizableRead();
    expect(leader.sm.items).toEqual(['a', 'b', 'c', 'd', 'e']);
    await waitFor('replication', () => (ids.every((id) => nodes.get(id)!.sm.items.length === 5) ? true : undefined));

    await leader.driver.stop();
    const rest = ids.filter((id) => id !== first);
    const second = await waitFor('a new leader', () => leaderAmong(rest));
    const next = nodes.get(second)!;
    for (const x of ['f', 'g', 'h', 'i', 'j']) await next.driver.propose(x);
    await waitFor('the survivors to apply', () => (rest.every((id) => nodes.get(id)!.sm.items.length === 10) ? true : undefined));
    for (const id of rest) expect(nodes.get(id)!.sm.items).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    // A snapshot was taken along the way and the log compacted behind it.
    expect(next.log.snapshot().metadata.index).toBeGreaterThan(0);

    // A follower reads linearizably through the leader.
    const follower = rest.find((id) => id !== second)!;
    await nodes.get(follower)!.driver.linearizableRead();
    expect(nodes.get(follower)!.sm.items).toHaveLength(10);
  }, 30_000);

  it('drops forged messages: unsigned, signed by another cluster, or sent in another node’s name', async () => {
    // The two nodes the previous test left running (the third was stopped with 5 entries applied).
    const alive = ids.filter((id) => nodes.get(id)!.sm.items.length === 10);
    const leaderId = await waitFor('a leader', () => leaderAmong(alive));
    const term = nodes.get(leaderId)!.driver.status().term;
    const victim = alive.find((id) => id !== leaderId)!;
    const { connect, headers } = await import('nats');
    const nc = await connect({ servers: NATS_URL });
    try {
      const subject = subjectsFor(namespace).raft('locks', victim);
      // A "timeout-now" would make the victim start an election at once, bumping every term.
      const forged = (from: string) => new TextEncoder().encode(JSON.stringify({ type: 'timeout-now', from, to: victim, term: term + 1_000_000 }));
      nc.publish(subject, forged(leaderId));
      const stranger = new ClusterKeys('some-other-cluster-secret-0000000000000000').key('internal-nats');
      const foreign = headers();
      foreign.set('Cairn-Auth', signMessage(stranger, `lock-manager/${leaderId}`, subject, forged(leaderId), Date.now()));
      nc.publish(subject, forged(leaderId), { headers: foreign });
      // Signed with the cluster's key by the stopped node, in the leader's name.
      const stopped = ids.find((id) => !alive.includes(id))!;
      const impostor = headers();
      const data = forged(leaderId);
      impostor.set('Cairn-Auth', authenticatorOf(stopped).sign(subject, data));
      nc.publish(subject, data, { headers: impostor });
      // A batch (one NATS message per peer carries a Ready's messages to it) signed by the stopped
      // node, with the leader's name inside: every message of it is checked against its signer.
      const batch = new TextEncoder().encode(JSON.stringify([JSON.parse(new TextDecoder().decode(forged(leaderId)))]));
      const batchImpostor = headers();
      batchImpostor.set('Cairn-Auth', authenticatorOf(stopped).sign(subject, batch));
      nc.publish(subject, batch, { headers: batchImpostor });
      await nc.flush();
      await new Promise((r) => setTimeout(r, 1_000));
      expect(nodes.get(leaderId)!.driver.status()).toMatchObject({ role: 'leader', term });
      expect(nodes.get(victim)!.driver.status().term).toBe(term);
      // The control: the same message signed in its sender's own name is taken, and the victim stands for election.
      const genuine = headers();
      // As a batch of one, as the transport sends several messages to one peer.
      const message = new TextEncoder().encode(JSON.stringify([{ type: 'timeout-now', from: leaderId, to: victim, term }]));
      genuine.set('Cairn-Auth', authenticatorOf(leaderId).sign(subject, message));
      nc.publish(subject, message, { headers: genuine });
      await waitFor('the victim to stand', () => (nodes.get(victim)!.driver.status().term > term ? true : undefined));
    } finally {
      await nc.close();
    }
  }, 20_000);
});
