import { createHash } from 'node:crypto';
import { MERKLE_FANOUT } from './merkle-tree';

/**
 * A Merkle tree over (keyId → digest) leaves, built by streaming them in key-id order, for
 * anti-entropy over buckets too large to hold (docs/anti-entropy.md). Like MerkleTree it partitions
 * by the hex digits of a hash of the key (here the key id itself, already a SHA-256), sixteen
 * children per level, so two trees of the same depth compare node by node whatever keys they hold;
 * unlike it, it keeps only the node hashes and key counts (16^depth leaf ranges, about 2 MiB at
 * depth 4), never the leaves: a range's keys are listed again from their source when a comparison
 * reaches it.
 *
 * A leaf range's hash covers its (keyId, digest) pairs in key-id order, length-prefixed; an inner
 * node's hash covers its sixteen children's hashes. Equal hashes: equal ranges (barring SHA-256
 * collisions); the tree of the same pairs is the same however they were paged in.
 */
export interface PrefixMerkleNode {
  readonly hash: string;
  /** Keys in the node's range. */
  readonly keys: number;
}

export const PREFIX_MERKLE_MAX_DEPTH = 6;
const HASH_BYTES = 32;
const HEX_PATTERN = /^[0-9a-f]*$/;

export class PrefixMerkleTree {
  private constructor(
    readonly depth: number,
    /** levels[l]: 16^l hashes of HASH_BYTES, concatenated. */
    private readonly hashes: readonly Buffer[],
    private readonly counts: readonly Uint32Array[],
  ) {}

  /** The tree of `leaves` (any order: they are sorted here; for streams, use PrefixMerkleTreeBuilder). */
  static of(leaves: Iterable<{ readonly keyId: string; readonly digest: string }>, depth: number): PrefixMerkleTree {
    const sorted = [...leaves].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
    const builder = new PrefixMerkleTreeBuilder(depth);
    for (const leaf of sorted) builder.add(leaf.keyId, leaf.digest);
    return builder.build();
  }

  /** @internal the builder's way in. */
  static fromLevels(depth: number, hashes: readonly Buffer[], counts: readonly Uint32Array[]): PrefixMerkleTree {
    return new PrefixMerkleTree(depth, hashes, counts);
  }

  get root(): string {
    return this.node('').hash;
  }

  get keys(): number {
    return this.counts[0][0];
  }

  /** The node named by a key-id prefix of 0..depth hex digits. */
  node(prefix: string): PrefixMerkleNode {
    const level = prefix.length;
    const index = indexOfPrefix(prefix, this.depth);
    return { hash: this.hashes[level].subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES).toString('hex'), keys: this.counts[level][index] };
  }

  /** The sixteen children of an inner node, in hex-digit order; [] for a leaf range. */
  children(prefix: string): PrefixMerkleNode[] {
    if (prefix.length >= this.depth) {
      indexOfPrefix(prefix, this.depth);
      return [];
    }
    return HEX_DIGITS.map((digit) => this.node(prefix + digit));
  }
}

export const HEX_DIGITS: readonly string[] = Array.from({ length: MERKLE_FANOUT }, (_, i) => i.toString(16));

function indexOfPrefix(prefix: string, depth: number): number {
  if (prefix.length > depth || !HEX_PATTERN.test(prefix)) throw new RangeError(`"${prefix}" is no node of a depth-${depth} tree (0..${depth} lowercase hex digits)`);
  return prefix.length === 0 ? 0 : parseInt(prefix, 16);
}

/**
 * Builds a PrefixMerkleTree from leaves added in ascending key-id order (as a paged listing in
 * key-id order yields them), holding one range's running hash at a time.
 */
export class PrefixMerkleTreeBuilder {
  private readonly leafHashes: Buffer;
  private readonly leafCounts: Uint32Array;
  private current = -1;
  private running: ReturnType<typeof createHash> | undefined;
  private lastKeyId: string | undefined;
  private built = false;

  constructor(readonly depth: number) {
    if (!Number.isInteger(depth) || depth < 0 || depth > PREFIX_MERKLE_MAX_DEPTH) {
      throw new RangeError(`prefix Merkle depth ${depth} must be an integer in 0..${PREFIX_MERKLE_MAX_DEPTH}`);
    }
    const ranges = MERKLE_FANOUT ** depth;
    this.leafHashes = Buffer.alloc(ranges * HASH_BYTES);
    this.leafCounts = new Uint32Array(ranges);
    for (let i = 0; i < ranges; i++) EMPTY_HASH.copy(this.leafHashes, i * HASH_BYTES);
  }

  /** One key's leaf; key ids strictly ascending, hex of at least `depth` digits. */
  add(keyId: string, digest: string): void {
    if (this.built) throw new Error('the tree is built already');
    if (keyId.length < this.depth || !HEX_PATTERN.test(keyId)) throw new RangeError(`key id "${keyId}" must be at least ${this.depth} lowercase hex digits`);
    if (this.lastKeyId !== undefined && keyId <= this.lastKeyId) throw new RangeError(`key ids must ascend: "${keyId}" after "${this.lastKeyId}"`);
    this.lastKeyId = keyId;
    const range = this.depth === 0 ? 0 : parseInt(keyId.slice(0, this.depth), 16);
    if (range !== this.current) {
      this.closeRange();
      this.current = range;
      this.running = createHash('sha256');
    }
    const k = Buffer.from(keyId, 'utf8');
    const d = Buffer.from(digest, 'utf8');
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(k.length, 0);
    lengths.writeUInt32BE(d.length, 4);
    this.running!.update(lengths).update(k).update(d);
    this.leafCounts[range] += 1;
  }

  build(): PrefixMerkleTree {
    if (this.built) throw new Error('the tree is built already');
    this.closeRange();
    this.built = true;
    const hashes: Buffer[] = [this.leafHashes];
    const counts: Uint32Array[] = [this.leafCounts];
    for (let level = this.depth; level > 0; level--) {
      const below = hashes[0];
      const belowCounts = counts[0];
      const size = MERKLE_FANOUT ** (level - 1);
      const above = Buffer.alloc(size * HASH_BYTES);
      const aboveCounts = new Uint32Array(size);
      for (let i = 0; i < size; i++) {
        const first = i * MERKLE_FANOUT;
        createHash('sha256')
          .update(below.subarray(first * HASH_BYTES, (first + MERKLE_FANOUT) * HASH_BYTES))
          .digest()
          .copy(above, i * HASH_BYTES);
        let n = 0;
        for (let j = 0; j < MERKLE_FANOUT; j++) n += belowCounts[first + j];
        aboveCounts[i] = n;
      }
      hashes.unshift(above);
      counts.unshift(aboveCounts);
    }
    return PrefixMerkleTree.fromLevels(this.depth, hashes, counts);
  }

  private closeRange(): void {
    if (this.running && this.current >= 0) this.running.digest().copy(this.leafHashes, this.current * HASH_BYTES);
    this.running = undefined;
  }
}

/** The hash of a range without keys. */
const EMPTY_HASH = createHash('sha256').digest();

/** A key's (keyId → digest) leaf whose digest differs between two sides, or that one side lacks. */
export interface KeyDigestDifference {
  readonly keyId: string;
  /** The digest on the left side, or null where it lacks the key. */
  readonly left: string | null;
  readonly right: string | null;
}

/** The differences between two lists of key digests, each ascending by key id. Empty iff equal. */
export function diffKeyDigests(
  left: readonly { readonly keyId: string; readonly digest: string }[],
  right: readonly { readonly keyId: string; readonly digest: string }[],
): KeyDigestDifference[] {
  const out: KeyDigestDifference[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length || (i < left.length && left[i].keyId < right[j].keyId)) {
      out.push({ keyId: left[i].keyId, left: left[i].digest, right: null });
      i++;
    } else if (i >= left.length || right[j].keyId < left[i].keyId) {
      out.push({ keyId: right[j].keyId, left: null, right: right[j].digest });
      j++;
    } else {
      if (left[i].digest !== right[j].digest) out.push({ keyId: left[i].keyId, left: left[i].digest, right: right[j].digest });
      i++;
      j++;
    }
  }
  return out;
}
