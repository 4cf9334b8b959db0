import fc from 'fast-check';
import { MerkleTree, diffMerkleTrees, type MerkleLeaf } from './merkle-tree';

const leafMap = fc.dictionary(fc.string({ maxLength: 8 }), fc.constantFrom('d1', 'd2', 'd3'), { maxKeys: 60 });
const own = (m: Record<string, string>, k: string): string | null => (Object.hasOwn(m, k) ? m[k] : null);
const toLeaves = (m: Record<string, string>): MerkleLeaf[] => Object.entries(m).map(([key, digest]) => ({ key, digest }));

describe('MerkleTree', () => {
  it('diff is empty iff the maps are equal, and names exactly the keys that differ', () => {
    fc.assert(
      fc.property(leafMap, leafMap, fc.integer({ min: 0, max: 3 }), (a, b, depth) => {
        const diff = diffMerkleTrees(MerkleTree.build(toLeaves(a), depth), MerkleTree.build(toLeaves(b), depth));
        const expected = [...new Set([...Object.keys(a), ...Object.keys(b)])]
          .filter((k) => own(a, k) !== own(b, k))
          .sort()
          .map((key) => ({ key, left: own(a, key), right: own(b, key) }));
        expect(diff).toEqual(expected);
        const equal = JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
        expect(diff.length === 0).toBe(equal);
        expect(MerkleTree.build(toLeaves(a), depth).root === MerkleTree.build(toLeaves(b), depth).root).toBe(equal);
      }),
    );
  });

  it('diff finds a small change among many leaves', () => {
    fc.assert(
      fc.property(leafMap, fc.string({ maxLength: 8 }), (a, key) => {
        const b: Record<string, string> = { ...a };
        Object.defineProperty(b, key, { value: own(a, key) === 'd1' ? 'd2' : 'd1', enumerable: true, writable: true, configurable: true });
        expect(diffMerkleTrees(MerkleTree.build(toLeaves(a)), MerkleTree.build(toLeaves(b)))).toEqual([{ key, left: own(a, key), right: own(b, key) }]);
      }),
    );
  });

  it('is the same tree whatever order the leaves come in', () => {
    fc.assert(
      fc.property(leafMap, (a) => {
        const leaves = toLeaves(a);
        expect(MerkleTree.build([...leaves].reverse()).root).toBe(MerkleTree.build(leaves).root);
      }),
    );
  });

  it('refuses duplicate keys and bad depths', () => {
    expect(() => MerkleTree.build([{ key: 'k', digest: 'a' }, { key: 'k', digest: 'b' }])).toThrow(/twice/);
    expect(() => MerkleTree.build([], 7)).toThrow(RangeError);
    expect(() => diffMerkleTrees(MerkleTree.build([], 1), MerkleTree.build([], 2))).toThrow(RangeError);
  });
});
