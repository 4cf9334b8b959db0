import { diffKeyDigests, HEX_DIGITS, type KeyDigestDifference } from '@cairn/hashing';
import type { AntiEntropyKeyDigest, AntiEntropyNode, AntiEntropyNodeSummary } from '@cairn/protocol';

/** One side of a comparison: this region's tree of the bucket, or the peer's over the link. */
export interface MerkleSide {
  /** The nodes named by these key-id prefixes (at most ANTI_ENTROPY_NODES_MAX), each with its children. */
  nodes(prefixes: readonly string[]): Promise<readonly AntiEntropyNode[]>;
  /** Every key digest in the range of `prefix`, ascending by key id. */
  keys(prefix: string): Promise<readonly AntiEntropyKeyDigest[]>;
}

export interface MerkleCompareOptions {
  /** Key-id digits of a leaf range. */
  readonly depth: number;
  /** A differing node with at most this many keys on each side is listed rather than descended. */
  readonly listMaxKeys: number;
  /** Nodes asked for in one request. */
  readonly nodesPerRequest: number;
  /** Ranges listed at once. */
  readonly listConcurrency: number;
  readonly signal?: AbortSignal;
  /** Called as the comparison goes, for progress reports. */
  readonly onProgress?: (progress: MerkleCompareProgress) => void;
}

export interface MerkleCompareProgress {
  readonly rangesCompared: number;
  readonly rangesListed: number;
  readonly keysDiffering: number;
}

export interface MerkleCompareOutcome extends MerkleCompareProgress {
  readonly inSync: boolean;
  readonly keysLocal: number;
  readonly keysPeer: number;
  /** `left` is this region's digest, `right` the peer's; ascending by key id. */
  readonly differences: readonly KeyDigestDifference[];
  /** Prefixes whose keys were listed on both sides (for tests and logs). */
  readonly listed: readonly string[];
  /** Prefixes whose children were asked for. */
  readonly descended: readonly string[];
}

/**
 * Compares two trees of one shape top-down: the roots first, then only the children whose hashes
 * differ, level by level (each level's nodes asked for in batches), until a differing range is a
 * leaf range or small enough (listMaxKeys on both sides) to list; listed ranges are diffed key by
 * key. Ranges whose hashes are equal are never looked into. Pure: the sides do the I/O.
 */
export async function compareMerkleTrees(local: MerkleSide, peer: MerkleSide, options: MerkleCompareOptions): Promise<MerkleCompareOutcome> {
  const [[localRoot], [peerRoot]] = await Promise.all([local.nodes(['']), peer.nodes([''])]);
  if (!localRoot || !peerRoot) throw new Error('a side answered no root');
  let rangesCompared = 1;
  let rangesListed = 0;
  const differences: KeyDigestDifference[] = [];
  const listed: string[] = [];
  const descended: string[] = [];
  const progress = () => options.onProgress?.({ rangesCompared, rangesListed, keysDiffering: differences.length });
  const base = { keysLocal: localRoot.keys, keysPeer: peerRoot.keys };
  if (localRoot.hash === peerRoot.hash) {
    return { ...base, inSync: true, rangesCompared, rangesListed, keysDiffering: 0, differences, listed, descended };
  }

  const toList: string[] = [];
  const shouldList = (prefix: string, l: AntiEntropyNodeSummary, p: AntiEntropyNodeSummary) =>
    prefix.length >= options.depth || Math.max(l.keys, p.keys) <= options.listMaxKeys;

  let frontier: { readonly prefix: string; readonly local: AntiEntropyNode; readonly peer: AntiEntropyNode }[] = [];
  if (shouldList('', localRoot, peerRoot)) toList.push('');
  else frontier = [{ prefix: '', local: localRoot, peer: peerRoot }];
  while (frontier.length > 0) {
    options.signal?.throwIfAborted();
    const toDescend: string[] = [];
    for (const node of frontier) {
      descended.push(node.prefix);
      expectChildren(node.prefix, node.local, 'local');
      expectChildren(node.prefix, node.peer, 'peer');
      for (let j = 0; j < HEX_DIGITS.length; j++) {
        rangesCompared += 1;
        const l = node.local.children[j];
        const p = node.peer.children[j];
        if (l.hash === p.hash) continue;
        const child = node.prefix + HEX_DIGITS[j];
        if (shouldList(child, l, p)) toList.push(child);
        else toDescend.push(child);
      }
    }
    progress();
    frontier = [];
    for (let i = 0; i < toDescend.length; i += options.nodesPerRequest) {
      const batch = toDescend.slice(i, i + options.nodesPerRequest);
      const [localNodes, peerNodes] = await Promise.all([local.nodes(batch), peer.nodes(batch)]);
      for (let k = 0; k < batch.length; k++) {
        const l = localNodes[k];
        const p = peerNodes[k];
        if (l?.prefix !== batch[k] || p?.prefix !== batch[k]) throw new Error(`a side answered other nodes than ${batch.join(',')}`);
        frontier.push({ prefix: batch[k], local: l, peer: p });
      }
    }
  }

  let next = 0;
  const lister = async () => {
    while (next < toList.length) {
      options.signal?.throwIfAborted();
      const prefix = toList[next++];
      const [l, p] = await Promise.all([local.keys(prefix), peer.keys(prefix)]);
      rangesListed += 1;
      listed.push(prefix);
      differences.push(...diffKeyDigests(l, p));
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.listConcurrency, toList.length)) }, lister));
  differences.sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0));
  listed.sort();
  return { ...base, inSync: false, rangesCompared, rangesListed, keysDiffering: differences.length, differences, listed, descended };
}

function expectChildren(prefix: string, node: AntiEntropyNode, side: string): void {
  if (node.children.length !== HEX_DIGITS.length) throw new Error(`the ${side} node "${prefix}" has ${node.children.length} children, not ${HEX_DIGITS.length}`);
}
