import { MemoryStorage } from '../lib/memory-storage';
import { SeededRandom } from '../lib/random-source';
import type { ConfState, Entry, Message, Snapshot } from '../lib/raft.types';
import { MemoryDisk } from './memory-disk';
import { RaftLoop, type ProposalOutcome, type ReadOutcome } from './raft-loop';
import type { DurableReadyPart, RaftDisk, ReplicatedStateMachine } from './raft-loop.port';

/** A disk that says durable only when the test flushes it, recording what happens in `trace`. */
class DeferredDisk implements RaftDisk {
  private readonly pending: { ready: DurableReadyPart; onDurable: () => void }[] = [];
  readonly inner: MemoryDisk;

  constructor(
    storage: MemoryStorage,
    private readonly trace: string[],
  ) {
    this.inner = new MemoryDisk(storage);
  }

  write(ready: DurableReadyPart, onDurable: () => void): void {
    this.trace.push(`write entries=${ready.entries.map((e) => e.index).join(',')}${ready.hardState ? ` term=${ready.hardState.term}` : ''}`);
    this.pending.push({ ready, onDurable });
  }

  get writesInFlight(): number {
    return this.pending.length;
  }

  flush(): void {
    for (const w of this.pending.splice(0)) {
      this.trace.push('durable');
      this.inner.write(w.ready, w.onDurable);
    }
  }

  createSnapshot(index: number, confState: ConfState, data: string): void {
    this.trace.push(`snapshot@${index}`);
    this.inner.createSnapshot(index, confState, data);
  }
}

/** Appends each normal entry's data; the result of an apply is the list's length. */
class ListMachine implements ReplicatedStateMachine<number> {
  items: string[] = [];
  constructor(private readonly trace: string[]) {}
  apply(entry: Entry): number {
    this.trace.push(`apply ${entry.index}`);
    if (entry.kind === 'normal' && entry.data !== '') this.items.push(entry.data);
    return this.items.length;
  }
  restore(snapshot: Snapshot): void {
    this.trace.push(`restore ${snapshot.metadata.index}`);
    this.items = JSON.parse(snapshot.data) as string[];
  }
  snapshotData(): string {
    return JSON.stringify(this.items);
  }
}

function setup(voters: string[], options: { blocking?: boolean; snapshotEveryEntries?: number; sendAppendsBeforePersist?: boolean } = {}) {
  const trace: string[] = [];
  const storage = new MemoryStorage({ voters });
  const deferred = new DeferredDisk(storage, trace);
  const sent: Message[] = [];
  const machine = new ListMachine(trace);
  const loop = new RaftLoop<number>({
    node: { id: 'n1', storage, random: new SeededRandom(1), preVote: false },
    disk: options.blocking ? deferred.inner : deferred,
    sender: {
      send(messages) {
        trace.push(`send ${messages.map((m) => `${m.type}->${m.to}`).join(' ')}`);
        sent.push(...messages);
      },
    },
    stateMachine: machine,
    snapshotEveryEntries: options.snapshotEveryEntries,
    sendAppendsBeforePersist: options.sendAppendsBeforePersist,
  });
  return { trace, storage, disk: deferred, sent, machine, loop };
}

/** n1 wins an election in a three-node group, with n2's vote. */
function electN1(t: ReturnType<typeof setup>): void {
  t.loop.raw.campaign();
  t.loop.process();
  t.disk.flush();
  t.loop.step({ type: 'vote-response', from: 'n2', to: 'n1', term: 1, reject: false });
  t.loop.process();
  t.disk.flush();
  expect(t.loop.raw.basicStatus()).toMatchObject({ role: 'leader', term: 1 });
}

describe('RaftLoop', () => {
  it('sends nothing of a Ready until the disk says it is durable', () => {
    const t = setup(['n1', 'n2', 'n3']);
    t.loop.raw.campaign();
    t.loop.process();
    // The vote for itself is on its way to the disk: no vote request may leave before it lands.
    expect(t.trace).toEqual(['write entries= term=1']);
    expect(t.disk.writesInFlight).toBe(1);
    // More input, and another process(), while the write is in flight: still one Ready at a time.
    t.loop.tick();
    t.loop.process();
    expect(t.disk.writesInFlight).toBe(1);
    t.disk.flush();
    expect(t.trace).toEqual(['write entries= term=1', 'durable', 'send vote->n2 vote->n3']);
    expect(t.storage.initialState().hardState).toMatchObject({ term: 1, vote: 'n1' });
  });

  it('persists, then sends, then applies, and settles a proposal with the state machine result', () => {
    const t = setup(['n1', 'n2', 'n3']);
    electN1(t);
    const outcomes: ProposalOutcome<number>[] = [];
    const result = t.loop.propose('a', (o) => outcomes.push(o));
    expect(result).toMatchObject({ ok: true, index: 2, term: 1 });
    t.loop.process();
    t.disk.flush();
    t.trace.length = 0;
    // n2 acknowledges both entries: they commit; the next Ready applies them.
    t.loop.step({ type: 'append-response', from: 'n2', to: 'n1', term: 1, reject: false, index: 2, rejectHint: 0 });
    t.loop.process();
    expect(outcomes).toEqual([]);
    expect(t.machine.items).toEqual([]);
    t.disk.flush();
    // (n3, which never answered, is still being probed: only n2 hears the new commit index.)
    expect(t.trace).toEqual(['write entries= term=1', 'durable', 'send append->n2', 'apply 1', 'apply 2']);
    expect(outcomes).toEqual([{ status: 'applied', result: 1 }]);
    expect(t.loop.applied).toBe(2);
  });

  it('with sendAppendsBeforePersist, a leader sends its appends while its own write is in flight, and counts itself only once it is durable', () => {
    const t = setup(['n1', 'n2', 'n3'], { sendAppendsBeforePersist: true });
    electN1(t);
    t.loop.step({ type: 'append-response', from: 'n2', to: 'n1', term: 1, reject: false, index: 1, rejectHint: 0 });
    t.loop.step({ type: 'append-response', from: 'n3', to: 'n1', term: 1, reject: false, index: 1, rejectHint: 0 });
    t.loop.process();
    t.disk.flush();
    expect(t.loop.raw.basicStatus().commit).toBe(1);
    const outcomes: ProposalOutcome<number>[] = [];
    t.loop.propose('a', (o) => outcomes.push(o));
    t.trace.length = 0;
    t.loop.process();
    expect(t.trace).toEqual(['send append->n2 append->n3', 'write entries=2']);
    // n2 has entry 2 durable, n1 not yet: one of three, no commit.
    t.loop.step({ type: 'append-response', from: 'n2', to: 'n1', term: 1, reject: false, index: 2, rejectHint: 0 });
    t.loop.process();
    expect(t.loop.raw.basicStatus().commit).toBe(1);
    t.disk.flush();
    // n1's own copy is durable now: with n2's, a majority.
    expect(t.loop.raw.basicStatus().commit).toBe(2);
    t.disk.flush();
    expect(outcomes).toEqual([{ status: 'applied', result: 1 }]);
  });

  it('with sendAppendsBeforePersist, a majority of followers commits an entry before the leader\'s write lands, which it applies only after', () => {
    const t = setup(['n1', 'n2', 'n3'], { sendAppendsBeforePersist: true });
    electN1(t);
    for (const from of ['n2', 'n3']) t.loop.step({ type: 'append-response', from, to: 'n1', term: 1, reject: false, index: 1, rejectHint: 0 });
    t.loop.process();
    t.disk.flush();
    const outcomes: ProposalOutcome<number>[] = [];
    t.loop.propose('a', (o) => outcomes.push(o));
    t.loop.process();
    for (const from of ['n2', 'n3']) t.loop.step({ type: 'append-response', from, to: 'n1', term: 1, reject: false, index: 2, rejectHint: 0 });
    t.loop.process();
    expect(t.loop.raw.basicStatus().commit).toBe(2);
    expect(t.machine.items).toEqual([]);
    expect(outcomes).toEqual([]);
    t.disk.flush();
    t.disk.flush();
    expect(t.machine.items).toEqual(['a']);
    expect(outcomes).toEqual([{ status: 'applied', result: 1 }]);
  });

  it('settles a proposal superseded when a later leader commits another entry at its index', () => {
    const t = setup(['n1', 'n2', 'n3']);
    electN1(t);
    const outcomes: ProposalOutcome<number>[] = [];
    t.loop.propose('lost', (o) => outcomes.push(o));
    t.loop.process();
    t.disk.flush();
    // n3 leads term 2 with its own entries at 1 and 2, committed.
    const entries: Entry[] = [
      { kind: 'normal', term: 2, index: 1, data: '' },
      { kind: 'normal', term: 2, index: 2, data: 'won' },
    ];
    t.loop.step({ type: 'append', from: 'n3', to: 'n1', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries, commit: 2 });
    t.loop.process();
    t.disk.flush();
    expect(outcomes).toEqual([{ status: 'superseded', index: 2 }]);
    expect(t.machine.items).toEqual(['won']);
  });

  it('settles a proposal unknown when a snapshot from the leader covers its index', () => {
    const t = setup(['n1', 'n2', 'n3']);
    electN1(t);
    const outcomes: ProposalOutcome<number>[] = [];
    t.loop.propose('maybe', (o) => outcomes.push(o));
    t.loop.process();
    t.disk.flush();
    const snapshot: Snapshot = { metadata: { index: 5, term: 2, confState: { voters: ['n1', 'n2', 'n3'] } }, data: JSON.stringify(['p', 'q']) };
    t.loop.step({ type: 'snapshot', from: 'n3', to: 'n1', term: 2, snapshot });
    t.loop.process();
    expect(t.machine.items).toEqual([]);
    t.disk.flush();
    expect(t.trace.slice(-2)).toEqual(['send append-response->n3', 'restore 5']);
    expect(outcomes).toEqual([{ status: 'unknown', index: 2 }]);
    expect(t.loop.applied).toBe(5);
    expect(t.storage.snapshot().metadata.index).toBe(5);
  });

  it('serves a linearizable read once the state machine has caught up with its read index', () => {
    const t = setup(['n1'], { blocking: true });
    t.loop.raw.campaign();
    t.loop.process();
    const writes: ProposalOutcome<number>[] = [];
    t.loop.propose('a', (o) => writes.push(o));
    const reads: ReadOutcome[] = [];
    expect(t.loop.readIndex((o) => reads.push(o))).toEqual({ ok: true });
    expect(reads).toEqual([]);
    t.loop.process();
    expect(writes).toEqual([{ status: 'applied', result: 1 }]);
    expect(reads).toEqual([{ status: 'ready' }]);
  });

  it('takes a snapshot every so many applied entries and lets the disk compact behind it', () => {
    const t = setup(['n1'], { blocking: true, snapshotEveryEntries: 3 });
    t.loop.raw.campaign();
    t.loop.process();
    for (const x of ['a', 'b', 'c', 'd', 'e']) {
      t.loop.propose(x, () => undefined);
      t.loop.process();
    }
    expect(t.loop.applied).toBe(6);
    expect(t.storage.snapshot().metadata.index).toBe(6);
    expect(JSON.parse(t.storage.snapshot().data)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(t.storage.firstIndex()).toBe(7);
  });

  it('restores the state machine from the snapshot on disk when it starts', () => {
    const first = setup(['n1'], { blocking: true, snapshotEveryEntries: 2 });
    first.loop.raw.campaign();
    first.loop.process();
    for (const x of ['a', 'b', 'c']) first.loop.propose(x, () => undefined);
    first.loop.process();
    const trace: string[] = [];
    const machine = new ListMachine(trace);
    const restarted = new RaftLoop<number>({
      node: { id: 'n1', storage: first.storage, random: new SeededRandom(2) },
      disk: new MemoryDisk(first.storage),
      sender: { send: () => undefined },
      stateMachine: machine,
    });
    expect(trace).toEqual([`restore ${first.storage.snapshot().metadata.index}`]);
    expect(restarted.applied).toBe(first.storage.snapshot().metadata.index);
    expect(machine.items).toEqual(['a', 'b', 'c']);
  });

  it('on stop, every waiting proposal and read hears stopped, and a write in flight is abandoned', () => {
    const t = setup(['n1', 'n2', 'n3']);
    electN1(t);
    const heard: string[] = [];
    t.loop.propose('a', (o) => heard.push(`write ${o.status}`));
    t.loop.process();
    t.loop.stop();
    expect(heard).toEqual(['write stopped']);
    t.trace.length = 0;
    t.disk.flush();
    expect(t.trace).toEqual(['durable']);
  });
});
