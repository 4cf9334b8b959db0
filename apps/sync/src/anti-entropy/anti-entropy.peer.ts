import {
  ANTI_ENTROPY_TREE_DEPTH,
  FederationOps,
  type AntiEntropyKeyDigest,
  type AntiEntropyKeyEventsReply,
  type AntiEntropyKeyEventsRequest,
  type AntiEntropyNode,
  type AntiEntropyNodeReply,
  type AntiEntropyNodeRequest,
} from '@cairn/protocol';
import type { FederationRequester } from '../federation/federation-rpc';
import type { MerkleSide } from './merkle-compare';

/** A peer region's sync as anti-entropy talks to it over the link. */
export class AntiEntropyPeer {
  /** Requests sent (and so round trips over the link). */
  requests = 0;

  constructor(
    private readonly federation: FederationRequester,
    readonly region: string,
    private readonly self: string,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves when the peer's sync answers: the link is up and something listens. */
  async probe(timeoutMs: number): Promise<void> {
    await this.federation.request<AntiEntropyNodeReply>(this.region, FederationOps.merkleNode, { requester: this.self, probe: true } satisfies AntiEntropyNodeRequest, timeoutMs);
  }

  /** The peer's tree of `bucket` as one side of a comparison; the first request asks for a fresh tree. */
  side(bucket: string): MerkleSide {
    let first = true;
    return {
      nodes: async (prefixes) => {
        const fresh = first;
        first = false;
        const reply = await this.node({ requester: this.self, bucket, depth: ANTI_ENTROPY_TREE_DEPTH, prefixes, ...(fresh ? { fresh } : {}) });
        return reply.nodes ?? ([] as AntiEntropyNode[]);
      },
      keys: async (prefix) => {
        const out: AntiEntropyKeyDigest[] = [];
        let afterKeyId: string | undefined;
        for (;;) {
          const reply = await this.node({ requester: this.self, bucket, depth: ANTI_ENTROPY_TREE_DEPTH, keysIn: { prefix, ...(afterKeyId ? { afterKeyId } : {}) } });
          out.push(...(reply.keys ?? []));
          if (!reply.nextAfterKeyId) return out;
          afterKeyId = reply.nextAfterKeyId;
        }
      },
    };
  }

  keyEvents(request: Omit<AntiEntropyKeyEventsRequest, 'requester'>): Promise<AntiEntropyKeyEventsReply> {
    this.requests += 1;
    return this.federation.request<AntiEntropyKeyEventsReply>(this.region, FederationOps.keyEvents, { requester: this.self, ...request }, this.timeoutMs);
  }

  private node(request: AntiEntropyNodeRequest): Promise<AntiEntropyNodeReply> {
    this.requests += 1;
    return this.federation.request<AntiEntropyNodeReply>(this.region, FederationOps.merkleNode, request, this.timeoutMs);
  }
}
