import fc from 'fast-check';
import { keyIdOf, PrefixMerkleTree } from '@cairn/hashing';
import type { AntiEntropyKeyDigest, ReplicaLeaf } from '@cairn/protocol';
import { compareMerkleTrees, type MerkleSide } from './merkle-compare';
import { KeyDigestFolder, keyDigestOf } from './replica-digest';
import { treeSide } from './tree-side';

const DEPTH = 4;
const OPTIONS = { depth: DEPTH, listMaxKeys: 64, nodesPerRequest: 64, listConcurrency: 4 };

function leavesOf(keys: readonly string[], extra: (key: string) => ReplicaLeaf[] = () => []): ReplicaLeaf[] {
  return keys
    .flatMap((key) => [{ keyId: keyIdOf(key), key, versionId: 'v1', etag: `e-${key}`, deleted: false }, ...extra(key)])
    .sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.versionId < b.versionId ? -1 : 1));
}

/** An in-memory region: its leaves, the tree built from them by paging, and a side that counts what it is asked. */
function region(leaves: readonly ReplicaLeaf[], pageSize = 97) {
  const folder = new KeyDigestFolder();
  const digests: AntiEntropyKeyDigest[] = [];
  for (let i = 0; i < leaves.length; i += pageSize) digests.push(...folder.add(leaves.slice(i, i + pageSize)));
  digests.push(...folder.end());
  const tree = PrefixMerkleTree.of(digests, DEPTH);
  const asked = { nodeRequests: 0, nodes: [] as string[], keyRequests: [] as string[] };
  const side = treeSide(tree, async (prefix) => {
    asked.keyRequests.push(prefix);
    return digests.filter((d) => d.keyId.startsWith(prefix));
  });
  const counted: MerkleSide = {
    nodes: (prefixes) => {
      asked.nodeRequests += 1;
      asked.nodes.push(...prefixes);
      return side.nodes(prefixes);
    },
    keys: side.keys,
  };
  return { tree, digests, side: counted, asked };
}

const range = (n: number, prefix = 'key-') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('anti-entropy Merkle comparison (in-memory leaves)', () => {
  it('equal buckets: the roots match and nothing else is asked', async () => {
    const a = region(leavesOf(range(5000)), 1000);
    const b = region(leavesOf(range(5000)), 7);
    const outcome = await compareMerkleTrees(a.side, b.side, OPTIONS);
    expect(outcome).toMatchObject({ inSync: true, rangesCompared: 1, rangesListed: 0, differences: [], keysLocal: 5000, keysPeer: 5000 });
    expect(b.asked).toEqual({ nodeRequests: 1, nodes: [''], keyRequests: [] });
  });

  it('finds exactly the keys that differ — missing either side, another version, a delete marker — and descends only above them', async () => {
    const keys = range(20_000);
    const missingHere = ['key-17', 'key-4242'];
    const missingThere = ['key-999'];
    const moreVersions = ['key-12345'];
    const deleted = ['key-7'];
    const here = leavesOf(
      keys.filter((k) => !missingHere.includes(k)),
      (k) => (deleted.includes(k) ? [{ keyId: keyIdOf(k), key: k, versionId: 'v2', etag: null, deleted: true }] : []),
    );
    const there = leavesOf(
      keys.filter((k) => !missingThere.includes(k)),
      (k) => (moreVersions.includes(k) ? [{ keyId: keyIdOf(k), key: k, versionId: 'v2', etag: 'e2', deleted: false }] : []),
    );
    const a = region(here);
    const b = region(there);
    const outcome = await compareMerkleTrees(a.side, b.side, OPTIONS);
    const differing = [...missingHere, ...missingThere, ...moreVersions, ...deleted];
    const expected = differing.map((k) => keyIdOf(k)).sort();
    expect(outcome.differences.map((d) => d.keyId)).toEqual(expected);
    const byKey = new Map(outcome.differences.map((d) => [d.keyId, d]));
    for (const k of missingHere) expect(byKey.get(keyIdOf(k))).toMatchObject({ left: null, right: expect.any(String) });
    for (const k of missingThere) expect(byKey.get(keyIdOf(k))).toMatchObject({ left: expect.any(String), right: null });
    expect(byKey.get(keyIdOf('key-12345'))?.right).toBe(keyDigestOf('key-12345', [{ versionId: 'v1', etag: 'e-key-12345', deleted: false }, { versionId: 'v2', etag: 'e2', deleted: false }]));
    // Every node descended into and every range listed lies above a differing key: nothing else is opened.
    const above = (prefix: string) => expected.some((id) => id.startsWith(prefix));
    expect(outcome.descended.every(above)).toBe(true);
    expect(outcome.listed.every(above)).toBe(true);
    expect(b.asked.keyRequests.every(above)).toBe(true);
    expect(b.asked.nodes.every(above)).toBe(true);
    // 20k keys in 16^4 ranges: at most one leaf range per differing key, a handful of nodes per level.
    expect(outcome.rangesListed).toBeLessThanOrEqual(expected.length);
    expect(b.asked.nodes.length).toBeLessThanOrEqual(1 + 3 * expected.length);
    expect(b.asked.nodeRequests).toBeLessThanOrEqual(DEPTH);
    expect(outcome.rangesCompared).toBe(1 + 16 * outcome.descended.length);
    expect(outcome).toMatchObject({ inSync: false, keysLocal: 19_998, keysPeer: 19_999, keysDiffering: expected.length });
  });

  it('a small bucket is listed at once instead of descended', async () => {
    const a = region(leavesOf(range(40)));
    const b = region(leavesOf(range(41)));
    const outcome = await compareMerkleTrees(a.side, b.side, OPTIONS);
    expect(outcome.listed).toEqual(['']);
    expect(outcome.descended).toEqual([]);
    expect(outcome.differences).toEqual([{ keyId: keyIdOf('key-40'), left: null, right: expect.any(String) }]);
  });

  it('an empty side against a full one lists everything the other holds', async () => {
    const a = region([]);
    const b = region(leavesOf(range(3000)));
    const outcome = await compareMerkleTrees(a.side, b.side, { ...OPTIONS, listMaxKeys: 16 });
    expect(outcome.differences).toHaveLength(3000);
    expect(outcome.differences.every((d) => d.left === null)).toBe(true);
  });

  it('for any two buckets: exactly the differing keys, only ranges above them opened, whatever the list threshold', async () => {
    const bucket = fc.dictionary(fc.integer({ min: 0, max: 400 }).map((n) => `key-${n}`), fc.constantFrom('e1', 'e2'), { maxKeys: 300 });
    const leaves = (m: Record<string, string>) =>
      Object.entries(m)
        .map(([key, etag]) => ({ keyId: keyIdOf(key), key, versionId: 'v1', etag, deleted: false }))
        .sort((a, b) => (a.keyId < b.keyId ? -1 : 1));
    await fc.assert(
      fc.asyncProperty(bucket, bucket, fc.constantFrom(0, 1, 4, 64), async (a, b, listMaxKeys) => {
        const here = region(leaves(a), 13);
        const there = region(leaves(b), 29);
        const outcome = await compareMerkleTrees(here.side, there.side, { ...OPTIONS, listMaxKeys });
        const expected = [...new Set([...Object.keys(a), ...Object.keys(b)])]
          .filter((k) => a[k] !== b[k])
          .map(keyIdOf)
          .sort();
        expect(outcome.differences.map((d) => d.keyId)).toEqual(expected);
        expect(outcome.inSync).toBe(expected.length === 0);
        const above = (prefix: string) => expected.some((id) => id.startsWith(prefix));
        expect([...outcome.descended, ...outcome.listed].every(above)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('the key digest depends on every version field and on the key', () => {
    const base = [{ versionId: 'v1', etag: 'e', deleted: false }];
    const d = keyDigestOf('k', base);
    expect(keyDigestOf('k', [{ versionId: 'v1', etag: 'e', deleted: false }])).toBe(d);
    expect(keyDigestOf('k2', base)).not.toBe(d);
    expect(keyDigestOf('k', [{ versionId: 'v2', etag: 'e', deleted: false }])).not.toBe(d);
    expect(keyDigestOf('k', [{ versionId: 'v1', etag: 'f', deleted: false }])).not.toBe(d);
    expect(keyDigestOf('k', [{ versionId: 'v1', etag: null, deleted: true }])).not.toBe(d);
    expect(keyDigestOf('k', [...base, { versionId: 'v2', etag: null, deleted: true }])).not.toBe(d);
  });

  it('stops when aborted', async () => {
    const a = region(leavesOf(range(2000)));
    const b = region(leavesOf(range(2100)));
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(compareMerkleTrees(a.side, b.side, { ...OPTIONS, signal: controller.signal })).rejects.toThrow('stopped');
  });
});
