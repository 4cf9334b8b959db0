import type { PrefixMerkleTree } from '@cairn/hashing';
import type { AntiEntropyKeyDigest, AntiEntropyNode } from '@cairn/protocol';
import type { MerkleSide } from './merkle-compare';

/** A node of a built tree as the protocol carries it. */
export function nodeOf(tree: PrefixMerkleTree, prefix: string): AntiEntropyNode {
  return { prefix, ...tree.node(prefix), children: tree.children(prefix) };
}

/** A side of a comparison from a tree at hand and a way to list a range's key digests. */
export function treeSide(tree: PrefixMerkleTree, keys: (prefix: string) => Promise<readonly AntiEntropyKeyDigest[]>): MerkleSide {
  return {
    nodes: async (prefixes) => prefixes.map((p) => nodeOf(tree, p)),
    keys,
  };
}
