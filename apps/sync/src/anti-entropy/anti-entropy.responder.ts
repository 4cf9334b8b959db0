import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { JetStreamEventStore, NatsConnectionManager } from '@cairn/messaging';
import {
  ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES,
  ANTI_ENTROPY_KEYS_MAX,
  ANTI_ENTROPY_NODES_MAX,
  ANTI_ENTROPY_TREE_DEPTH,
  AntiEntropyErrorCodes,
  CairnError,
  ErrorCodes,
  FederationOps,
  subjectsFor,
  type AntiEntropyKeyEvent,
  type AntiEntropyKeyEventsReply,
  type AntiEntropyKeyEventsRequest,
  type AntiEntropyNodeReply,
  type AntiEntropyNodeRequest,
} from '@cairn/protocol';
import { ClusterCredentials, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import type { Subscription } from 'nats';
import { serveFederationOpsWhenReady } from '../federation/federation-rpc';
import { REPLICA_LEAVES_PAGE, ReplicaTrees } from './replica-trees';
import { nodeOf } from './tree-side';

const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;
const PREFIX_PATTERN = new RegExp(`^[0-9a-f]{0,${ANTI_ENTROPY_TREE_DEPTH}}$`);
/** How soon the responders try again to subscribe when NATS was not there. */

/**
 * This region's side of anti-entropy: answers other regions' syncs on `fed.<this region>.ae.node`
 * (its Merkle tree of a bucket: nodes, or a range's key digests) and `fed.<this region>.ae.key-events`
 * (a key's events from its META). Every instance answers (a queue group); trees are built from
 * this region's metadata and kept a short while (ReplicaTrees).
 */
@Injectable()
export class AntiEntropyResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AntiEntropyResponder');
  private readonly subscriptions: Subscription[] = [];
  private stopped = false;
  readonly answered = { nodes: 0, keys: 0, keyEvents: 0, probes: 0 };

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly credentials: ClusterCredentials,
    private readonly events: JetStreamEventStore,
    private readonly trees: ReplicaTrees,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  onApplicationBootstrap(): void {
    void this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private async subscribe(): Promise<void> {
    const subscriptions = await serveFederationOpsWhenReady(
      this.nats,
      this.identity.namespace,
      this.identity.region,
      this.credentials,
      [
        { op: FederationOps.merkleNode, handler: (p) => this.node(p as AntiEntropyNodeRequest) },
        { op: FederationOps.keyEvents, handler: (p) => this.keyEvents(p as AntiEntropyKeyEventsRequest) },
      ],
      this.logger,
      () => this.stopped,
    );
    this.subscriptions.push(...subscriptions);
    if (this.stopped) await this.onApplicationShutdown();
  }

  async node(request: AntiEntropyNodeRequest | null): Promise<AntiEntropyNodeReply> {
    if (!request || typeof request !== 'object') throw invalid('the request must be a JSON object');
    if (request.probe) {
      this.answered.probes += 1;
      return { region: this.identity.region };
    }
    if (request.depth !== ANTI_ENTROPY_TREE_DEPTH) {
      throw new CairnError(AntiEntropyErrorCodes.TreeShapeMismatch, `this region's trees have depth ${ANTI_ENTROPY_TREE_DEPTH}, not ${String(request.depth)}`);
    }
    if (typeof request.bucket !== 'string' || request.bucket.length === 0) throw invalid('bucket must be a bucket name');
    if (request.keysIn) {
      const { prefix, afterKeyId } = request.keysIn;
      if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) throw invalid(`keysIn.prefix must be 0..${ANTI_ENTROPY_TREE_DEPTH} lowercase hex digits`);
      if (afterKeyId !== undefined && (typeof afterKeyId !== 'string' || !KEY_ID_PATTERN.test(afterKeyId))) throw invalid('keysIn.afterKeyId must be a key id');
      this.answered.keys += 1;
      // A page may overshoot its minimum by up to one leaf page of keys: the minimum leaves room for it.
      const page = await this.trees.keys(request.bucket, prefix, afterKeyId, ANTI_ENTROPY_KEYS_MAX - REPLICA_LEAVES_PAGE);
      return { region: this.identity.region, keys: page.keys, nextAfterKeyId: page.nextAfterKeyId };
    }
    const prefixes = request.prefixes ?? [];
    if (!Array.isArray(prefixes) || prefixes.length === 0 || prefixes.length > ANTI_ENTROPY_NODES_MAX) {
      throw invalid(`prefixes must name 1..${ANTI_ENTROPY_NODES_MAX} nodes`);
    }
    for (const p of prefixes) if (typeof p !== 'string' || !PREFIX_PATTERN.test(p)) throw invalid(`prefix "${String(p)}" is no node of the tree`);
    this.answered.nodes += 1;
    const built = await this.trees.tree(request.bucket, { fresh: request.fresh === true });
    return { region: this.identity.region, builtAt: new Date(built.builtAtMs).toISOString(), nodes: prefixes.map((p) => nodeOf(built.tree, p)) };
  }

  async keyEvents(request: AntiEntropyKeyEventsRequest | null): Promise<AntiEntropyKeyEventsReply> {
    if (!request || typeof request !== 'object') throw invalid('the request must be a JSON object');
    if (typeof request.bucket !== 'string' || request.bucket.length === 0) throw invalid('bucket must be a bucket name');
    if (typeof request.keyId !== 'string' || !KEY_ID_PATTERN.test(request.keyId)) throw invalid('keyId must be 64 lowercase hex digits');
    const afterSequence = request.afterSequence ?? 0;
    if (!Number.isInteger(afterSequence) || afterSequence < 0) throw invalid('afterSequence must be a stream sequence');
    this.answered.keyEvents += 1;
    const history = await this.events.read(subjectsFor(this.identity.namespace).object(request.bucket, request.keyId));
    const events: AntiEntropyKeyEvent[] = [];
    let bytes = 0;
    let throughSequence = afterSequence;
    for (const stored of history.events) {
      if (stored.sequence <= afterSequence) continue;
      const origin = stored.envelope.origin ?? stored.envelope.region;
      if (origin !== request.excludeOrigin) {
        const size = Buffer.byteLength(JSON.stringify(stored.envelope));
        if (events.length > 0 && bytes + size > ANTI_ENTROPY_KEY_EVENTS_MAX_BYTES) {
          return { region: this.identity.region, events, throughSequence, isTruncated: true };
        }
        bytes += size;
        events.push({ sequence: stored.sequence, envelope: stored.envelope });
      }
      throughSequence = stored.sequence;
    }
    return { region: this.identity.region, events, throughSequence, isTruncated: false };
  }
}

function invalid(message: string): CairnError {
  return new CairnError(ErrorCodes.InvalidCommand, message);
}
