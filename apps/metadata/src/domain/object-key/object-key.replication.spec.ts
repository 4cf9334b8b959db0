import { keyIdOf } from '@cairn/hashing';
import { MetadataErrorCodes, type ObjectKeyEvent, type VersioningStatus } from '@cairn/protocol';
import { MetadataError } from '../shared/metadata.errors';
import { objectKeyDecider, type ObjectKeyState } from './object-key.decider';
import { keyAsRead } from '@cairn/key-reads';

const BUCKET = 'shared';
const KEY = 'doc.txt';
const ETAG = 'd41d8cd98f00b204e9800998ecf8427e';
const ref = { bucket: BUCKET, key: KEY, keyId: keyIdOf(KEY), incarnation: 1 };

/** One region's copy of a key: the events it appended, in order. */
class RegionKey {
  readonly events: ObjectKeyEvent[] = [];
  private tick = 0;
  constructor(
    readonly region: string,
    private readonly clockBase: number,
  ) {}

  get state(): ObjectKeyState {
    return this.events.reduce(objectKeyDecider.evolve, objectKeyDecider.initialState());
  }

  private hlc(): string {
    this.tick += 1;
    return `${(this.clockBase + this.tick).toString(16).padStart(12, '0')}-00000000`;
  }

  private append(events: readonly ObjectKeyEvent[]): ObjectKeyEvent[] {
    this.events.push(...events);
    return [...events];
  }

  put(versioning: VersioningStatus, versionId: string): ObjectKeyEvent[] {
    const hlc = this.hlc();
    return this.append(
      objectKeyDecider.decide(
        {
          type: 'PutObjectVersion',
          ...ref,
          region: this.region,
          versionId,
          versioning,
          sizeBytes: 0,
          etag: ETAG,
          checksums: {},
          contentType: 'text/plain',
          userMetadata: {},
          chunks: [],
          storageClass: 'STANDARD',
          hlc,
          lastModified: new Date().toISOString(),
        },
        this.state,
      ),
    );
  }

  deleteKey(versioning: VersioningStatus, versionId: string): ObjectKeyEvent[] {
    return this.append(objectKeyDecider.decide({ type: 'DeleteObject', ...ref, region: this.region, versionId, versioning, hlc: this.hlc(), lastModified: '' }, this.state));
  }

  /** Applies another region's changes, as sync does, in their order. */
  receive(from: RegionKey, events: readonly ObjectKeyEvent[]): ObjectKeyEvent[] {
    const out: ObjectKeyEvent[] = [];
    for (const event of events) {
      const decided = objectKeyDecider.decide(
        { type: 'ApplyReplicatedChange', ...ref, sourceRegion: from.region, event, changeHlc: this.hlc(), resolvedAt: '2026-12-02T00:00:00.000Z' },
        this.state,
      );
      out.push(...this.append(decided));
    }
    return out;
  }

  /** What ListObjectVersions would show: id, current or not, marker or not — in order. */
  versions(): string[] {
    const read = keyAsRead(this.events);
    return this.state.versions.map((v) => `${v.versionId}${v.versionId === read.currentVersionId ? '*' : ''}${v.isDeleteMarker ? ' (marker)' : ''}`);
  }
}

/** The events a region made itself: what sync sends to the others. */
const own = (key: RegionKey) => key.events.filter((e) => e.type !== 'ConflictResolved' && e.type !== 'ReplicatedChangeSkipped' && (e.data as { region?: string }).region === key.region);
const conflicts = (events: readonly ObjectKeyEvent[]) => events.filter((e) => e.type === 'ConflictResolved');

describe('replicated changes of one key between two regions', () => {
  it('applies a change from another region once, whatever the number of deliveries', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_000);
    const put = a.put('Enabled', 'v-a1');
    b.receive(a, put);
    expect(b.receive(a, put)).toEqual([]);
    expect(b.versions()).toEqual(['v-a1*']);
  });

  it('refuses a change that arrives before an earlier one of the same region', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_000);
    a.put('Enabled', 'v-a1');
    const second = a.put('Enabled', 'v-a2');
    expect(() => b.receive(a, second)).toThrow(expect.objectContaining({ code: MetadataErrorCodes.OutOfOrder }) as MetadataError);
  });

  it('orders causally later writes on top in both regions, without a conflict', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 5_000);
    b.receive(a, a.put('Unversioned', 'ignored'));
    // B's clock is ahead, but A writes after seeing B's write: A's version must win everywhere.
    const fromB = b.put('Unversioned', 'ignored');
    a.receive(b, fromB);
    const again = a.put('Unversioned', 'ignored');
    expect(conflicts(b.receive(a, again))).toEqual([]);
    expect(a.versions()).toEqual(['null*']);
    expect(b.versions()).toEqual(a.versions());
    expect(b.state.versions[0].region).toBe('region-a');
  });

  it('resolves concurrent versions of a versioned key the same way in both regions and keeps the loser', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_000);
    const fromA = a.put('Enabled', 'v-a');
    const fromB = b.put('Enabled', 'v-b');
    const atA = a.receive(b, fromB);
    const atB = b.receive(a, fromA);
    // Same HLC: the higher region id (region-b) wins in both.
    expect(a.versions()).toEqual(['v-b*', 'v-a']);
    expect(b.versions()).toEqual(['v-b*', 'v-a']);
    const [resolvedAtA] = conflicts(atA);
    const [resolvedAtB] = conflicts(atB);
    expect(resolvedAtA?.data).toMatchObject({ winner: { versionId: 'v-b' }, loser: { versionId: 'v-a' } });
    expect((resolvedAtB?.data as { conflictId: string }).conflictId).toBe((resolvedAtA?.data as { conflictId: string }).conflictId);
  });

  it('keeps the losing null version of an unversioned key under a new id in both regions', () => {
    const a = new RegionKey('region-a', 2_000);
    const b = new RegionKey('region-b', 1_000);
    const fromA = a.put('Unversioned', 'ignored');
    const fromB = b.put('Unversioned', 'ignored');
    a.receive(b, fromB);
    b.receive(a, fromA);
    // A's HLC is higher: A's write is the null version, B's is kept as a noncurrent loser.
    expect(a.versions()).toEqual(b.versions());
    expect(a.versions()[0]).toBe('null*');
    expect(a.versions()).toHaveLength(2);
    expect(a.state.versions[0].region).toBe('region-a');
    expect(b.state.versions[0].region).toBe('region-a');
    expect(keyAsRead(b.events).versions.map((v) => v.versionId)).toEqual(keyAsRead(a.events).versions.map((v) => v.versionId));
  });

  it('lets a write survive a concurrent delete of the key made in the other region', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_000);
    b.receive(a, a.put('Unversioned', 'ignored'));
    const deleted = a.deleteKey('Unversioned', 'ignored');
    const rewritten = b.put('Unversioned', 'ignored');
    const atB = b.receive(a, deleted);
    a.receive(b, rewritten);
    expect(a.versions()).toEqual(['null*']);
    expect(b.versions()).toEqual(['null*']);
    expect(b.state.versions[0].region).toBe('region-b');
    expect(conflicts(atB)).toHaveLength(1);
    // The next change from A still follows in order at B: the skipped delete was counted.
    const next = a.put('Unversioned', 'ignored');
    expect(() => b.receive(a, next)).not.toThrow();
    expect(own(a)).toHaveLength(3);
  });

  it('converges delete markers and versions written on both sides of a partition', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_003);
    const seed = a.put('Enabled', 'v-seed');
    b.receive(a, seed);
    const fromA = [...a.put('Enabled', 'v-a1'), ...a.deleteKey('Enabled', 'm-a'), ...a.put('Enabled', 'v-a2')];
    const fromB = [...b.deleteKey('Enabled', 'm-b'), ...b.put('Enabled', 'v-b1')];
    a.receive(b, fromB);
    b.receive(a, fromA);
    expect([...a.versions()].sort()).toEqual([...b.versions()].sort());
    expect(a.versions().find((v) => v.includes('*'))).toBe(b.versions().find((v) => v.includes('*')));
    expect(a.versions()).toHaveLength(6);
  });

  it('waits for the changes another region had seen before applying its own (a third region hears the two in any order)', () => {
    const a = new RegionKey('region-a', 1_000);
    const b = new RegionKey('region-b', 1_000);
    const c = new RegionKey('region-c', 1_000);
    const first = a.put('Enabled', 'v-a1');
    b.receive(a, first);
    const marker = b.deleteKey('Enabled', 'm-b');
    // c hears b's marker first: it follows a's first version, which c does not have yet.
    expect(() => c.receive(b, marker)).toThrow(expect.objectContaining({ code: MetadataErrorCodes.OutOfOrder }) as MetadataError);
    c.receive(a, first);
    c.receive(b, marker);
    expect(c.versions()).toEqual(b.versions());
  });
});
