import type { RpcClient } from '@cairn/messaging';
import {
  CairnError,
  FederationOps,
  ForwardedWriteOps,
  METADATA_SERVICE,
  MetadataErrorCodes,
  MetadataRpc,
  type ChunkRef,
  type ForwardWriteRequest,
  type ObjectVersionView,
} from '@cairn/protocol';
import type { FederationRequester } from '../federation/federation-rpc';
import type { ReplicaChunkPuller } from '../anti-entropy/replica-chunks.port';

const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The home may have to pull a put's chunks over a slow link first. */
const HOME_TIMEOUT_MS = 110_000;
const COMMIT_TIMEOUT_MS = 30_000;
/** How long the region that took a forwarded write waits to see it come back (read-your-writes), before answering anyway. */
const VISIBLE_WAIT_MS = 10_000;
const VISIBLE_POLL_MS = 50;
/** How often a forwarded write in flight looks at whether its home has been found down. */
const HOME_WATCH_MS = 250;

const METADATA_RPC_OF = {
  put: MetadataRpc.putObject,
  copy: MetadataRpc.copyObject,
  delete: MetadataRpc.deleteObject,
  'put-tags': MetadataRpc.putObjectTags,
  'delete-tags': MetadataRpc.deleteObjectTags,
  'put-acl': MetadataRpc.putObjectAcl,
} as const;

function validForward(payload: unknown, side: 'homeRegion' | 'originRegion'): ForwardWriteRequest & { readonly region: string } {
  const r = payload as Partial<ForwardWriteRequest> | null;
  const region = r?.[side];
  if (!r || typeof r !== 'object' || typeof region !== 'string' || !REGION_PATTERN.test(region)) {
    throw new CairnError(MetadataErrorCodes.InvalidArgument, `a forwarded write names its ${side}`);
  }
  if (!ForwardedWriteOps.includes(r.op as never)) throw new CairnError(MetadataErrorCodes.InvalidArgument, `op must be one of ${ForwardedWriteOps.join(', ')}`);
  if (typeof r.request !== 'object' || r.request === null || Array.isArray(r.request)) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'request must be an object');
  return { ...(r as ForwardWriteRequest), region };
}

/**
 * Writes to an active-passive bucket taken by a region that is not its home (docs/replication.md).
 * The region that took it (metadata → `take`) sends it over the link to the home's sync, and
 * answers only once the home has committed it; the home (`commitAtHome`) pulls a put's chunks
 * from the region that took it, then commits through its own metadata — as the home's own
 * write, which replicates back like any other. A link down means no acknowledgement.
 */
export class WriteForwarding {
  constructor(
    private readonly region: string,
    private readonly rpc: RpcClient,
    private readonly federation: FederationRequester,
    private readonly chunks: ReplicaChunkPuller,
  ) {}

  /**
   * In the region that took the write: the home's reply, once the home has it. `homeUnreachable`
   * is this region's own verdict on a region (the control group's failed checks): once it finds the
   * home down, the client is told at once (503, retry) instead of waiting out the home's timeout —
   * after a failover its retry goes to the new home.
   */
  async take(payload: unknown, homeUnreachable: (region: string) => boolean = () => false): Promise<unknown> {
    const forward = validForward(payload, 'homeRegion');
    if (forward.region === this.region) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'this region is the home: the write is not forwarded');
    if (homeUnreachable(forward.region)) throw homeDown(forward.region);
    const request = this.federation.request<Record<string, unknown>>(
      forward.region,
      FederationOps.forwardWrite,
      { originRegion: this.region, op: forward.op, request: forward.request, ...(forward.completion ? { completion: forward.completion } : {}) },
      HOME_TIMEOUT_MS,
    );
    const reply = (await untilUnreachable(request, () => homeUnreachable(forward.region), forward.region)) as { versionId?: string; hlc?: string; sequence?: number };
    if (forward.op === 'put' || forward.op === 'copy') await this.visibleHere(forward.request, reply);
    // The home's stream sequence means nothing to this region's projection; metadata keeps it as
    // homeSequence, what this region must have applied for the writer's reads here (read-your-writes).
    return { ...reply, sequence: 0, homeSequence: typeof reply.sequence === 'number' ? reply.sequence : 0 };
  }

  /** At the home: commits a write another region took. */
  async commitAtHome(payload: unknown, signal: AbortSignal): Promise<unknown> {
    const forward = validForward(payload, 'originRegion');
    if (forward.region === this.region) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'a region does not forward a write to itself');
    let request: Record<string, unknown> = forward.request;
    if (forward.op === 'put') {
      const chunks = request['chunks'];
      if (Array.isArray(chunks)) await this.chunks.ensureChunks(forward.region, chunks as ChunkRef[], signal);
      if (forward.completion) request = { ...request, forwardedCompletion: forward.completion };
    }
    return this.rpc.request(METADATA_SERVICE, METADATA_RPC_OF[forward.op], request, { timeoutMs: COMMIT_TIMEOUT_MS });
  }

  /** Waits (bounded) until replication has brought the home's version back here: a read after the acknowledgement sees it. */
  private async visibleHere(request: Record<string, unknown>, reply: { versionId?: string; hlc?: string }): Promise<void> {
    const { bucket, key } = request as { bucket?: string; key?: string };
    if (typeof bucket !== 'string' || typeof key !== 'string' || typeof reply.versionId !== 'string') return;
    const deadline = Date.now() + VISIBLE_WAIT_MS;
    while (Date.now() < deadline) {
      const view = await this.rpc.request<ObjectVersionView>(METADATA_SERVICE, MetadataRpc.headObject, { bucket, key, versionId: reply.versionId }).catch(() => null);
      if (view && (reply.hlc === undefined || view.hlc === reply.hlc)) return;
      await new Promise((resolve) => setTimeout(resolve, VISIBLE_POLL_MS));
    }
  }
}

/**
 * The request's outcome, or ServiceUnavailable as soon as `unreachable()` says the region it went
 * to is down. The write's fate at the home is then unknown (it may have committed before the cut);
 * like a timeout, the client learns it was not acknowledged, and its retry is a new write.
 */
async function untilUnreachable<T>(request: Promise<T>, unreachable: () => boolean, region: string): Promise<T> {
  let watch: NodeJS.Timeout | undefined;
  const givenUp = new Promise<never>((_, reject) => {
    watch = setInterval(() => {
      if (unreachable()) reject(homeDown(region));
    }, HOME_WATCH_MS);
  });
  try {
    return await Promise.race([request, givenUp]);
  } finally {
    clearInterval(watch);
    request.catch(() => undefined);
  }
}

function homeDown(region: string): CairnError {
  return new CairnError('ServiceUnavailable', `the home region ${region} is not answering this region's checks: the write was not acknowledged; retry (after a failover it goes to the new home)`, {
    homeRegion: region,
  });
}
