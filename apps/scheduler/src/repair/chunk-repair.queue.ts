import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { isContentHash, type ContentHash } from '@cairn/hashing';
import { abortable, SERVICE_CONFIG, WorkerRegistry, type NamedWorker, type WorkerStatus } from '@cairn/service-kit';
import { ClusterView } from '../cluster/cluster-view';
import { QueueNames, SchedulerQueues } from '../adapters/scheduler-queues';
import type { SchedulerConfig } from '../scheduler.config';
import { describeError } from '@cairn/chunk-client';
import { ChunkCopier } from './chunk-copier';
import { NodeHealthFollower } from './node-health.follower';

export interface ChunkRepairJob {
  readonly hash: ContentHash;
  /** The replica reported missing or bad. */
  readonly nodeId: string;
  readonly reason: string;
}

export type ChunkRepairResult =
  | { readonly outcome: 'repaired'; readonly source: string; readonly sizeBytes: number }
  | { readonly outcome: 'already-there' | 'not-a-replica' | 'target-unreachable' };

export const REPAIR_JOB_ATTEMPTS = 6;
export const REPAIR_JOB_BACKOFF_FIRST_MS = 1_000;

/**
 * Per-replica repairs from events (a write that missed a replica, a corrupt chunk quarantined, a
 * read that fell over). One job per (chunk, node), deduplicated while it waits; retried with
 * exponential backoff (a node that is down gets its copy when it is back, or from the sweep).
 */
@Injectable()
export class ChunkRepairQueue implements OnApplicationBootstrap, NamedWorker {
  readonly name = 'chunk-repair';
  private readonly logger = new Logger('ChunkRepair');
  private repaired = 0;
  private repairedBytes = 0;
  private failures = 0;
  private lastError?: { message: string; at: string };
  private running = 0;

  constructor(
    private readonly queues: SchedulerQueues,
    private readonly cluster: ClusterView,
    private readonly copier: ChunkCopier,
    private readonly health: NodeHealthFollower,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.workers.register(this);
    this.queues.worker<ChunkRepairJob>(QueueNames.repair, (job) => this.process(job), { concurrency: this.config.CAIRN_REPAIR_CONCURRENCY });
  }

  async enqueue(job: ChunkRepairJob): Promise<void> {
    if (!isContentHash(job.hash)) throw new Error(`not a chunk hash: ${job.hash}`);
    await this.queues.queue(QueueNames.repair).add('repair-chunk', job, {
      jobId: `${job.hash}.${job.nodeId}`,
      attempts: REPAIR_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: REPAIR_JOB_BACKOFF_FIRST_MS },
      removeOnComplete: true,
      removeOnFail: { count: 1_000 },
    });
  }

  async counts(): Promise<Record<string, number>> {
    return this.queues.queue(QueueNames.repair).getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  status(): WorkerStatus {
    return {
      name: this.name,
      state: this.running > 0 ? 'running' : 'idle',
      runs: this.repaired + this.failures,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      progress: { doneItems: this.repaired, doneBytes: this.repairedBytes, detail: `${this.failures} failed attempts` },
    };
  }

  private async process(job: Job<ChunkRepairJob>): Promise<ChunkRepairResult> {
    this.running++;
    try {
      const result = await abortable(this.repair(job.data), this.queues.shutdownSignal);
      if (result.outcome === 'repaired') {
        this.repaired++;
        this.repairedBytes += result.sizeBytes;
      }
      return result;
    } catch (error) {
      this.failures++;
      this.lastError = { message: describeError(error), at: new Date().toISOString() };
      throw error;
    } finally {
      this.running--;
    }
  }

  async repair({ hash, nodeId, reason }: ChunkRepairJob): Promise<ChunkRepairResult> {
    await this.cluster.ring.ready();
    const ring = this.cluster.ring.ring();
    // Placement at STANDARD's copies (the most a replicated chunk keeps); the sweep applies each chunk's own.
    const replicationFactor = this.config.CAIRN_REPLICATION_FACTOR;
    const replicas = ring.replicasFor(hash, Math.min(replicationFactor, ring.members.length)).map((m) => m.nodeId);
    // A node the ring no longer names for this chunk gets nothing; the sweep trims what it holds.
    if (!replicas.includes(nodeId)) return { outcome: 'not-a-replica' };
    // A node declared down gets what it missed from the sweep its NodeRecovered starts.
    if (this.health.isDown(nodeId)) return { outcome: 'target-unreachable' };
    let held: number | null;
    try {
      held = await this.cluster.nodes.head(nodeId, hash);
    } catch {
      // A node that is down gets everything it missed from the sweep once it is back (a NodeRecovered
      // from monitoring starts one): retrying here per chunk would only pile jobs up while it is away.
      return { outcome: 'target-unreachable' };
    }
    if (held !== null) return { outcome: 'already-there' };
    const sources = this.health.upFirst([...replicas.filter((n) => n !== nodeId), ...this.cluster.ring.fallbackReadNodes(hash, replicationFactor)].filter(
      (n, i, all) => n !== nodeId && all.indexOf(n) === i,
    ));
    const copied = await this.copier.copy(hash, sources, [nodeId], 'repair');
    if (copied.copiedTo.length === 1 && copied.sourceNodeId) {
      this.logger.log(`repaired ${hash} on ${nodeId} from ${copied.sourceNodeId} (${reason})`);
      return { outcome: 'repaired', source: copied.sourceNodeId, sizeBytes: copied.sizeBytes };
    }
    if (copied.alreadyThere.length === 1) return { outcome: 'already-there' };
    throw new Error(`could not repair ${hash} on ${nodeId}: ${copied.failed.map((f) => `${f.nodeId} ${f.reason}`).join('; ') || 'no source holds it'}`);
  }
}
