import { HashRing, contentHashOf, type ContentHash } from '@cairn/hashing';
import { gcDecision, reconcileChunk } from './chunk-reconciliation';

const ring = HashRing.build({ epoch: 1, members: ['a', 'b', 'c', 'd'].map((nodeId, i) => ({ nodeId, zone: `z${i}`, host: `h${i}`, weight: 1 })) });
const hash: ContentHash = contentHashOf(Buffer.from('reconcile me'));
const expected = ring.replicasFor(hash, 3).map((m) => m.nodeId);
const outsider = ['a', 'b', 'c', 'd'].find((n) => !expected.includes(n))!;
const all = new Set(['a', 'b', 'c', 'd']);
const referenced = { replicationFactor: 3 };

describe('reconcileChunk', () => {
  it('leaves a chunk on exactly its ring replicas alone', () => {
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: expected, reference: referenced }, { ring, listed: all })).toEqual({ kind: 'healthy' });
  });

  it('repairs a replica that missed the chunk, copying from the holders', () => {
    const action = reconcileChunk({ hash, sizeBytes: 10, holders: expected.slice(0, 2), reference: referenced }, { ring, listed: all });
    expect(action).toMatchObject({ kind: 'copy', reason: 'repair', to: [expected[2]], trim: [] });
  });

  it('after a ring change copies to the new replica, then trims the one the ring no longer names (a rebalance)', () => {
    const holders = [...expected.slice(0, 2), outsider];
    const action = reconcileChunk({ hash, sizeBytes: 10, holders, reference: referenced }, { ring, listed: all });
    expect(action).toMatchObject({ kind: 'copy', reason: 'rebalance', to: [expected[2]], trim: [outsider] });
    // Sources the ring still names come first.
    if (action.kind === 'copy') expect(action.sources[action.sources.length - 1]).toBe(outsider);
  });

  it('trims a surplus copy once every ring replica holds the chunk', () => {
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: [...expected, outsider], reference: referenced }, { ring, listed: all })).toEqual({
      kind: 'trim',
      from: [outsider],
      expected,
    });
  });

  it('never trims, nor copies to, what it could not list', () => {
    const listed = new Set([...all].filter((n) => n !== expected[2]));
    const action = reconcileChunk({ hash, sizeBytes: 10, holders: [expected[0], expected[1], outsider], reference: referenced }, { ring, listed });
    expect(action).toEqual({ kind: 'healthy' });
  });

  it('keeps the replication factor of the chunk’s storage class', () => {
    const two = ring.replicasFor(hash, 2).map((m) => m.nodeId);
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: two, reference: { replicationFactor: 2 } }, { ring, listed: all })).toEqual({ kind: 'healthy' });
  });

  it('says lost when every replica was listed and none holds a referenced chunk, undecided when some could not be listed', () => {
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: [], reference: referenced }, { ring, listed: all })).toEqual({ kind: 'lost' });
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: [], reference: referenced }, { ring, listed: new Set([outsider]) })).toEqual({ kind: 'unknown' });
  });

  it('an unreferenced chunk anywhere is a garbage-collection candidate', () => {
    expect(reconcileChunk({ hash, sizeBytes: 10, holders: [outsider], reference: null }, { ring, listed: all })).toEqual({ kind: 'unreferenced', holders: [outsider] });
  });
});

describe('gcDecision', () => {
  const graceMs = 1_000;
  it('first sight starts the clock and collects nothing', () => expect(gcDecision(undefined, 5_000, graceMs)).toEqual({ collect: false, firstSeenUnreferencedAtMs: 5_000 }));
  it('collects only a grace period after the first sight', () => {
    expect(gcDecision(5_000, 5_999, graceMs).collect).toBe(false);
    expect(gcDecision(5_000, 6_000, graceMs)).toEqual({ collect: true, firstSeenUnreferencedAtMs: 5_000 });
  });
});
