import { createHash } from 'node:crypto';

/**
 * A Merkle tree over (key → digest) leaves for anti-entropy (docs/architecture.md §4). Keys are spread
 * into buckets by the SHA-256 of the key, so two trees built from different key sets still
 * partition the key space the same way and can be compared level by level: a diff descends only
 * into subtrees whose hashes differ. Within a bucket leaves are sorted by key, and the tree is
 * the same whatever order the leaves were given in.
 */
export interface MerkleLeaf {
  readonly key: string;
  readonly digest: string;
}

export interface MerkleDifference {
  readonly key: string;
  /** The digest in the left tree, or null where the left tree lacks the key. */
  readonly left: string | null;
  readonly right: string | null;
}

/** Sixteen children per node: one hex digit of the key's hash per level. */
export const MERKLE_FANOUT = 16;
export const MERKLE_DEFAULT_DEPTH_LEVELS = 3;
export const MERKLE_MAX_DEPTH_LEVELS = 6;

export class MerkleTree {
  /** levels[0] is [root]; levels[depth] holds one hash per bucket. */
  private readonly levels: string[][];
  private readonly buckets: MerkleLeaf[][];

  private constructor(
    readonly depthLevels: number,
    buckets: MerkleLeaf[][],
  ) {
    this.buckets = buckets;
    const leafLevel = buckets.map(hashBucket);
    const levels: string[][] = [leafLevel];
    for (let level = depthLevels; level > 0; level--) {
      const below = levels[0];
      const above: string[] = [];
      for (let i = 0; i < below.length; i += MERKLE_FANOUT) {
        const h = createHash('sha256');
        for (let j = 0; j < MERKLE_FANOUT; j++) h.update(below[i + j]);
        above.push(h.digest('hex'));
      }
      levels.unshift(above);
    }
    this.levels = levels;
  }

  static build(leaves: Iterable<MerkleLeaf>, depthLevels: number = MERKLE_DEFAULT_DEPTH_LEVELS): MerkleTree {
    if (!Number.isInteger(depthLevels) || depthLevels < 0 || depthLevels > MERKLE_MAX_DEPTH_LEVELS) {
      throw new RangeError(`Merkle depth ${depthLevels} must be an integer in 0..${MERKLE_MAX_DEPTH_LEVELS}`);
    }
    const buckets: MerkleLeaf[][] = Array.from({ length: MERKLE_FANOUT ** depthLevels }, () => []);
    const keys = new Set<string>();
    for (const leaf of leaves) {
      if (keys.has(leaf.key)) throw new RangeError(`Merkle leaf key "${leaf.key}" appears twice`);
      keys.add(leaf.key);
      buckets[bucketOf(leaf.key, depthLevels)].push({ key: leaf.key, digest: leaf.digest });
    }
    for (const b of buckets) b.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    return new MerkleTree(depthLevels, buckets);
  }

  get root(): string {
    return this.levels[0][0];
  }

  /** The hash of the node at `index` on `level` (0 = root): what a remote peer asks for. */
  hashAt(level: number, index: number): string {
    const h = this.levels[level]?.[index];
    if (h === undefined) throw new RangeError(`no Merkle node at level ${level}, index ${index}`);
    return h;
  }

  leavesInBucket(bucket: number): readonly MerkleLeaf[] {
    const b = this.buckets[bucket];
    if (!b) throw new RangeError(`no Merkle bucket ${bucket}`);
    return b;
  }
}

/** Every key whose digest differs or that only one side holds, sorted by key. Empty iff equal. */
export function diffMerkleTrees(left: MerkleTree, right: MerkleTree): MerkleDifference[] {
  if (left.depthLevels !== right.depthLevels) throw new RangeError('Merkle trees of different depths cannot be compared');
  const out: MerkleDifference[] = [];
  const descend = (level: number, index: number) => {
    if (left.hashAt(level, index) === right.hashAt(level, index)) return;
    if (level === left.depthLevels) {
      out.push(...diffSortedLeaves(left.leavesInBucket(index), right.leavesInBucket(index)));
      return;
    }
    for (let j = 0; j < MERKLE_FANOUT; j++) descend(level + 1, index * MERKLE_FANOUT + j);
  };
  descend(0, 0);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function diffSortedLeaves(a: readonly MerkleLeaf[], b: readonly MerkleLeaf[]): MerkleDifference[] {
  const out: MerkleDifference[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].key < b[j].key)) {
      out.push({ key: a[i].key, left: a[i].digest, right: null });
      i++;
    } else if (i >= a.length || b[j].key < a[i].key) {
      out.push({ key: b[j].key, left: null, right: b[j].digest });
      j++;
    } else {
      if (a[i].digest !== b[j].digest) out.push({ key: a[i].key, left: a[i].digest, right: b[j].digest });
      i++;
      j++;
    }
  }
  return out;
}

function bucketOf(key: string, depthLevels: number): number {
  if (depthLevels === 0) return 0;
  return parseInt(createHash('sha256').update(key).digest('hex').slice(0, depthLevels), 16);
}

function hashBucket(leaves: readonly MerkleLeaf[]): string {
  const h = createHash('sha256');
  // Length-prefixed, so that no two different leaf lists hash the same bytes.
  for (const leaf of leaves) {
    const k = Buffer.from(leaf.key, 'utf8');
    const d = Buffer.from(leaf.digest, 'utf8');
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(k.length, 0);
    lengths.writeUInt32BE(d.length, 4);
    h.update(lengths).update(k).update(d);
  }
  return h.digest('hex');
}
