import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { diffKeyDigests, HEX_DIGITS, PrefixMerkleTree, PrefixMerkleTreeBuilder } from './prefix-merkle-tree';

const idOf = (n: number) => createHash('sha256').update(String(n)).digest('hex');
/** key number → digest: a map of up to 80 keys. */
const leafMap = fc.dictionary(fc.integer({ min: 0, max: 200 }).map(String), fc.constantFrom('d1', 'd2', 'd3'), { maxKeys: 80 });
const toLeaves = (m: Record<string, string>) => Object.entries(m).map(([n, digest]) => ({ keyId: idOf(Number(n)), digest }));

describe('PrefixMerkleTree', () => {
  it('root equal iff the leaf sets are equal, and diffKeyDigests names exactly the keys that differ', () => {
    fc.assert(
      fc.property(leafMap, leafMap, fc.integer({ min: 0, max: 3 }), (a, b, depth) => {
        const left = PrefixMerkleTree.of(toLeaves(a), depth);
        const right = PrefixMerkleTree.of(toLeaves(b), depth);
        const sort = (l: { keyId: string; digest: string }[]) => l.sort((x, y) => (x.keyId < y.keyId ? -1 : 1));
        const diff = diffKeyDigests(sort(toLeaves(a)), sort(toLeaves(b)));
        const expected = [...new Set([...Object.keys(a), ...Object.keys(b)])]
          .filter((n) => a[n] !== b[n])
          .map((n) => ({ keyId: idOf(Number(n)), left: a[n] ?? null, right: b[n] ?? null }))
          .sort((x, y) => (x.keyId < y.keyId ? -1 : 1));
        expect(diff).toEqual(expected);
        expect(left.root === right.root).toBe(expected.length === 0);
        expect(left.keys).toBe(Object.keys(a).length);
      }),
    );
  });

  it('a node differs exactly where a differing key lies under it', () => {
    fc.assert(
      fc.property(leafMap, leafMap, (a, b) => {
        const depth = 2;
        const left = PrefixMerkleTree.of(toLeaves(a), depth);
        const right = PrefixMerkleTree.of(toLeaves(b), depth);
        const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => a[n] !== b[n]).map((n) => idOf(Number(n)));
        for (const d1 of HEX_DIGITS) {
          expect(left.node(d1).hash !== right.node(d1).hash).toBe(differing.some((id) => id.startsWith(d1)));
          for (const d2 of HEX_DIGITS) {
            expect(left.node(d1 + d2).hash !== right.node(d1 + d2).hash).toBe(differing.some((id) => id.startsWith(d1 + d2)));
          }
        }
      }),
      { numRuns: 50 },
    );
  });

  it('counts keys per node, and children sum to their parent', () => {
    const leaves = Array.from({ length: 500 }, (_, i) => ({ keyId: idOf(i), digest: 'x' }));
    const tree = PrefixMerkleTree.of(leaves, 3);
    expect(tree.keys).toBe(500);
    for (const prefix of ['', 'a', '3f']) {
      expect(tree.children(prefix).reduce((n, c) => n + c.keys, 0)).toBe(tree.node(prefix).keys);
      expect(tree.node(prefix).keys).toBe(leaves.filter((l) => l.keyId.startsWith(prefix)).length);
    }
    expect(tree.children('abc')).toEqual([]);
  });

  it('the builder takes ascending key ids only, and names bad nodes', () => {
    const builder = new PrefixMerkleTreeBuilder(2);
    builder.add('ab' + '0'.repeat(62), 'x');
    expect(() => builder.add('aa' + '0'.repeat(62), 'x')).toThrow(/ascend/);
    expect(() => builder.add('ab' + '0'.repeat(62), 'x')).toThrow(/ascend/);
    expect(() => builder.add('A'.repeat(64), 'x')).toThrow(RangeError);
    const tree = builder.build();
    expect(() => tree.node('abc')).toThrow(RangeError);
    expect(() => tree.node('zz')).toThrow(RangeError);
    expect(() => new PrefixMerkleTreeBuilder(7)).toThrow(RangeError);
    expect(tree.node('ab').keys).toBe(1);
  });

  it('an empty tree has the same root at every build', () => {
    expect(PrefixMerkleTree.of([], 4).root).toBe(new PrefixMerkleTreeBuilder(4).build().root);
    expect(PrefixMerkleTree.of([], 4).keys).toBe(0);
  });
});
