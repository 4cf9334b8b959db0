import { CairnError, type AntiEntropyKeyEvent, type ApplyReplicatedRequest, type ChunkRef, type EventEnvelope } from '@cairn/protocol';
import { repairKey } from './key-repair';
import type { ReplicaChunkPuller } from './replica-chunks.port';

const SELF = 'region-2';
const PEER = 'region-1';
const KEY_ID = 'a'.repeat(64);

function event(sequence: number, type: string, data: Record<string, unknown>, provenance: { region?: string; origin?: string } = {}): AntiEntropyKeyEvent {
  const envelope: EventEnvelope = {
    id: `e${sequence}`,
    type,
    schemaVersion: 1,
    aggregateId: `b/${KEY_ID}`,
    region: provenance.region ?? PEER,
    ...(provenance.origin ? { origin: provenance.origin } : {}),
    hlc: `h${sequence}`,
    causationId: null,
    correlationId: null,
    occurredAt: '2026-12-02T00:00:00.000Z',
    data: { bucket: 'b', key: 'k', keyId: KEY_ID, ...data },
  };
  return { sequence, envelope };
}

const stored: ChunkRef = { hash: 'c'.repeat(64), offsetBytes: 0, sizeBytes: 100 };
const inline: ChunkRef = { hash: 'd'.repeat(64), offsetBytes: 0, sizeBytes: 3, inline: 'YWJj' };

/** A peer serving `events` in pages of `pageSize`, honouring afterSequence and excludeOrigin as the responder does. */
function peerOf(events: readonly AntiEntropyKeyEvent[], pageSize = 100) {
  const asked: { afterSequence?: number; excludeOrigin?: string }[] = [];
  return {
    asked,
    region: PEER,
    keyEvents: async (request: { afterSequence?: number; excludeOrigin?: string }) => {
      asked.push(request);
      const after = events.filter((e) => e.sequence > (request.afterSequence ?? 0));
      const page = after.slice(0, pageSize);
      const kept = page.filter((e) => (e.envelope.origin ?? e.envelope.region) !== request.excludeOrigin);
      return { region: PEER, events: kept, throughSequence: page.at(-1)?.sequence ?? request.afterSequence ?? 0, isTruncated: after.length > pageSize };
    },
  };
}

function chunkPuller(fail = false) {
  const calls: { source: string; chunks: readonly ChunkRef[] }[] = [];
  const puller: ReplicaChunkPuller = {
    ensureChunks: async (source, chunks) => {
      calls.push({ source, chunks });
      if (fail) throw new Error('storage unreachable');
      return chunks.filter((c) => c.inline === undefined).length;
    },
  };
  return { calls, puller };
}

const signal = new AbortController().signal;

describe('key repair (in-memory peer and metadata)', () => {
  it('applies the peer’s events in its stream order across pages, each with its origin, skipping its own and the peer’s bookkeeping', async () => {
    const peer = peerOf(
      [
        event(3, 'ObjectVersionPut', { versionId: 'v1', chunks: [inline] }),
        event(5, 'ObjectVersionPut', { versionId: 'v2', chunks: [] }, { region: PEER, origin: 'region-3' }),
        event(8, 'ObjectVersionPut', { versionId: 'v3', chunks: [] }, { region: PEER, origin: SELF }),
        event(9, 'ConflictResolved', { conflictId: 'c1' }),
        event(12, 'DeleteMarkerPut', { versionId: 'm1' }),
        event(13, 'ReplicatedChangeSkipped', { versionId: 'x' }),
        event(20, 'ObjectTagsSet', { versionId: 'v1', tags: [] }),
      ],
      2,
    );
    const applied: ApplyReplicatedRequest[] = [];
    const { calls, puller } = chunkPuller();
    const outcome = await repairKey({
      self: SELF,
      bucket: 'b',
      keyId: KEY_ID,
      peer,
      apply: async (r) => {
        applied.push(r);
        return { applied: r.sourceSequence !== 12, sequence: 1 };
      },
      chunks: puller,
      localVersionIds: async () => new Set(),
      signal,
    });
    expect(applied.map((a) => [a.sourceSequence, a.sourceRegion, a.envelope.type])).toEqual([
      [3, PEER, 'ObjectVersionPut'],
      [5, 'region-3', 'ObjectVersionPut'],
      [12, PEER, 'DeleteMarkerPut'],
      [20, PEER, 'ObjectTagsSet'],
    ]);
    expect(peer.asked.map((a) => a.afterSequence)).toEqual([0, 5, 9, 13]);
    expect(peer.asked.every((a) => a.excludeOrigin === SELF)).toBe(true);
    // Inline chunks need nothing pulled.
    expect(calls).toEqual([]);
    expect(outcome).toEqual({ eventsFetched: 6, eventsApplied: 3, eventsAlreadyApplied: 1, chunksPulled: 0 });
  });

  it('pulls a version’s stored chunks from the peer before applying it, unless the version is here already', async () => {
    const peer = peerOf([event(1, 'ObjectVersionPut', { versionId: 'v1', chunks: [stored, inline] }), event(2, 'ObjectVersionCopied', { versionId: 'v2', chunks: [stored] })]);
    const order: string[] = [];
    const { calls, puller } = chunkPuller();
    const outcome = await repairKey({
      self: SELF,
      bucket: 'b',
      keyId: KEY_ID,
      peer,
      apply: async (r) => {
        order.push(`apply ${r.sourceSequence}`);
        return { applied: true, sequence: 1 };
      },
      chunks: { ensureChunks: (source, chunks, s) => (order.push('pull'), puller.ensureChunks(source, chunks, s)) },
      localVersionIds: async () => new Set(['v2']),
      signal,
    });
    expect(order).toEqual(['pull', 'apply 1', 'apply 2']);
    expect(calls).toEqual([{ source: PEER, chunks: [stored] }]);
    expect(outcome.chunksPulled).toBe(1);
  });

  it('stops a key at a chunk it cannot have, at a change metadata refuses, and says when the bucket is missing', async () => {
    const events = [event(1, 'ObjectVersionPut', { versionId: 'v1', chunks: [stored] }), event(2, 'DeleteMarkerPut', { versionId: 'm1' })];
    const noChunk = await repairKey({
      self: SELF,
      bucket: 'b',
      keyId: KEY_ID,
      peer: peerOf(events),
      apply: async () => ({ applied: true, sequence: 1 }),
      chunks: chunkPuller(true).puller,
      localVersionIds: async () => new Set(),
      signal,
    });
    expect(noChunk).toMatchObject({ eventsApplied: 0, error: expect.stringMatching(/chunks: storage unreachable/) });

    let calls = 0;
    const outOfOrder = await repairKey({
      self: SELF,
      bucket: 'b',
      keyId: KEY_ID,
      peer: peerOf([events[1]]),
      apply: async () => {
        calls += 1;
        throw new CairnError('REPLICATION_OUT_OF_ORDER', 'an earlier change of region-1 is missing');
      },
      chunks: chunkPuller().puller,
      localVersionIds: async () => new Set(),
      signal,
    });
    expect(calls).toBe(1);
    expect(outOfOrder).toMatchObject({ eventsApplied: 0, error: expect.stringMatching(/REPLICATION_OUT_OF_ORDER/) });
    expect(outOfOrder.noSuchBucket).toBeUndefined();

    const noBucket = await repairKey({
      self: SELF,
      bucket: 'b',
      keyId: KEY_ID,
      peer: peerOf([events[1]]),
      apply: async () => {
        throw new CairnError('NoSuchBucket', 'no bucket b');
      },
      chunks: chunkPuller().puller,
      localVersionIds: async () => new Set(),
      signal,
    });
    expect(noBucket).toMatchObject({ noSuchBucket: true });
  });
});
