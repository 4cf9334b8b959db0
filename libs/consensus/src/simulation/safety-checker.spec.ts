import { MemoryStorage } from '../lib/memory-storage';
import type { Entry, Role } from '../lib/raft.types';
import { SafetyChecker, type ObservedNode } from './safety-checker';

class Violation extends Error {}

function checker(): SafetyChecker {
  return new SafetyChecker((message) => {
    throw new Violation(message);
  });
}

const entry = (index: number, term: number, data = `e${index}`): Entry => ({ kind: 'normal', index, term, data });

function logOf(entries: Entry[]): MemoryStorage {
  const storage = new MemoryStorage({ voters: ['a', 'b', 'c'] });
  storage.append(entries);
  return storage;
}

/** A node as the checker sees it: a role and term, and a log of (index, term) pairs. */
function node(id: string, role: Role, term: number, entries: Entry[] = []): ObservedNode {
  const storage = logOf(entries);
  return {
    id,
    storage,
    raw: {
      basicStatus: () => ({ term, role, lead: role === 'leader' ? id : '', commit: 0, lastIndex: storage.lastIndex(), applied: 0 }),
      termAt: (index: number) => (index >= 0 && index <= storage.lastIndex() ? storage.term(index) : undefined),
      status: () => ({ firstIndex: storage.firstIndex() }) as ReturnType<ObservedNode['raw']['status']>,
    },
  };
}

describe('SafetyChecker', () => {
  it('counts one leader per term and refuses a second', () => {
    const c = checker();
    c.observe(node('a', 'leader', 1));
    c.observe(node('a', 'leader', 1));
    c.observe(node('b', 'leader', 2));
    c.observe(node('c', 'follower', 2));
    expect(c.elections).toBe(2);
    expect(() => c.observe(node('c', 'leader', 2))).toThrow('two leaders in term 2: b and c');
  });

  it('refuses a new leader that lacks an entry committed in an earlier term (leader completeness)', () => {
    const c = checker();
    c.applied('a', 1, 11, entry(1, 1));
    c.applied('a', 2, 12, entry(2, 1));
    c.observe(node('b', 'leader', 2, [entry(1, 1), entry(2, 1)]));
    expect(() => c.observe(node('c', 'leader', 3, [entry(1, 1)]))).toThrow('leader c of term 3 lacks committed entry 2 (term 1)');
  });

  it('refuses two votes by one node in one term, and accepts the same vote repeated', () => {
    const c = checker();
    c.voteGranted('a', 1, 'b');
    c.voteGranted('a', 1, 'b');
    c.voteGranted('a', 2, 'c');
    expect(() => c.voteGranted('a', 1, 'c')).toThrow('a voted for both b and c in term 1');
  });

  it('refuses a committed entry that changes, or a state that differs after the same entries', () => {
    const c = checker();
    c.applied('a', 1, 100, entry(1, 1, 'x'));
    c.applied('b', 1, 100, entry(1, 1, 'x'));
    // A replica that reached index 1 by a snapshot has no entry to compare, only its state.
    c.applied('c', 1, 100, undefined);
    expect(c.committedIndex).toBe(1);
    expect(() => c.applied('c', 1, 100, entry(1, 2, 'y'))).toThrow('committed entry 1 changed');
    expect(() => c.applied('c', 1, 101, undefined)).toThrow('state after applying 1 differs on c');
  });

  it('refuses logs that agree on an entry but not on what precedes it (log matching)', () => {
    const c = checker();
    const a = { id: 'a', storage: logOf([entry(1, 1), entry(2, 1), entry(3, 2)]) };
    const b = { id: 'b', storage: logOf([entry(1, 1), entry(2, 1), entry(3, 3)]) };
    c.logMatching([a, b]);
    const forged = { id: 'c', storage: logOf([entry(1, 1), entry(2, 1, 'other'), entry(3, 2)]) };
    expect(() => c.logMatching([a, forged])).toThrow('log matching broken between a and c at 2');
    const decreasing = { id: 'd', storage: logOf([entry(1, 2), entry(2, 1)]) };
    expect(() => c.logMatching([decreasing])).toThrow("terms decrease along d's log at 2");
  });

  it('refuses an entry applied before a majority holds it on disk (or has compacted past it)', () => {
    const c = checker();
    const e2 = entry(2, 1);
    const leaderWithout = { id: 'a', storage: logOf([entry(1, 1)]) };
    const follower = { id: 'b', storage: logOf([entry(1, 1), e2]) };
    const otherTerm = { id: 'c', storage: logOf([entry(1, 1), entry(2, 2)]) };
    expect(() => c.durableOnQuorum('a', e2, [leaderWithout, follower, otherTerm])).toThrow('a applied entry 2 (term 1) held durably by only 1 of 3 nodes');
    const compacted = logOf([entry(1, 1), e2, entry(3, 1)]);
    compacted.createSnapshot(3, { voters: ['a', 'b', 'c'] }, '');
    compacted.compact(3);
    c.durableOnQuorum('a', e2, [leaderWithout, follower, { id: 'c', storage: compacted }]);
  });

  it('after healing, refuses replicas that differ', () => {
    const c = checker();
    c.replicasAgree([
      { id: 'a', appliedIndex: 4, hash: 9 },
      { id: 'b', appliedIndex: 4, hash: 9 },
    ]);
    expect(() =>
      c.replicasAgree([
        { id: 'a', appliedIndex: 4, hash: 9 },
        { id: 'b', appliedIndex: 3, hash: 7 },
      ]),
    ).toThrow('replicas differ after healing: a=4:9 b=3:7');
  });
});
