// Types only: erased at run time, so the CLI's launcher needs no path aliases.
import type { ConflictRecord, ListConflictsReply, ReplicationConfig, ReplicationLagView, StorageNodeDescription } from '@cairn/protocol';

/** The conflict log and replication lag as the protocol defines them (metadata's and sync's replies). */
export type { ConflictRecord, ListConflictsReply, ReplicationLagView };

/**
 * The admin APIs' replies as the CLI reads them (the services own the full shapes; the CLI may
 * not import their code). Fields the CLI does not show are left out.
 */

export interface ProgressWire {
  readonly doneItems: number;
  readonly totalItems: number;
  readonly doneBytes: number;
  readonly totalBytes: number;
  readonly elapsedMs?: number;
  readonly ratePerSecond: number | null;
  readonly rateUnit: 'bytes' | 'items';
  readonly etaSeconds: number | null;
  readonly fractionDone: number;
}

export const SWEEP_WORK_KINDS = ['repair', 'rebalance', 'gc'] as const;
export type SweepWorkKind = (typeof SWEEP_WORK_KINDS)[number];

export interface SweepReportWire {
  readonly id: string;
  readonly trigger: string;
  readonly instance: string;
  readonly state: 'surveying' | 'working' | 'done' | 'failed';
  readonly ringEpoch: number;
  readonly leftOut?: readonly string[];
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly survey: { readonly shardsDone: number; readonly shardsTotal: number; readonly chunksSeen: number; readonly lostChunks: number; readonly undecidedChunks?: number; readonly referencedChunks?: number; readonly unreferencedChunks?: number };
  readonly nodes?: Readonly<Record<string, { readonly listed: boolean; readonly draining: boolean; readonly chunks: number; readonly bytes: number; readonly error?: string }>>;
  readonly work: Readonly<Record<SweepWorkKind, ProgressWire>>;
  readonly failures: number;
  readonly lastFailure?: string;
}

export interface ScrubNodeWire {
  readonly nodeId: string;
  readonly urgent: boolean;
  readonly corruptFoundTotal: number;
  readonly pass: { readonly startedAt: string; readonly verifiedChunks: number; readonly corruptFound: number };
  readonly previousPass: { readonly startedAt: string; readonly finishedAt: string | null; readonly verifiedBytes: number; readonly verifiedChunks: number; readonly corruptFound: number } | null;
  readonly paceBytesPerSecond: number;
  readonly progress: ProgressWire;
  readonly coverage: { readonly fraction?: number; readonly windowDays: number; readonly oldestVerifiedAt: string | null; readonly oldestVerifiedAgeSeconds: number | null } & Readonly<Record<string, unknown>>;
}

export interface WorkerWire {
  readonly name: string;
  readonly state: string;
  readonly runs: number;
  readonly lastError?: string;
}

export interface JobsReplyWire {
  readonly sweep: { readonly running: SweepReportWire | null; readonly last: SweepReportWire | null; readonly lastComplete: SweepReportWire | null };
  readonly scrub: readonly ScrubNodeWire[];
  readonly repairQueue: Readonly<Record<string, number>>;
  readonly workers?: readonly WorkerWire[];
}

/** A node as the admin APIs list it: how it described itself when it joined, and its state since. */
export interface StorageNodeWire extends StorageNodeDescription {
  readonly draining: boolean;
  readonly joinedAt?: string;
  readonly held?: { readonly chunks: number; readonly bytes: number; readonly listed: boolean; readonly sweptAtEpoch: number; readonly sweptAt?: string } | null;
  readonly removable?: boolean;
}

export interface NodesReplyWire {
  readonly epoch: number;
  readonly nodes: readonly StorageNodeWire[];
}

export type InstanceStatus = 'up' | 'suspected' | 'down';

export interface InstanceWire {
  readonly region: string;
  readonly service: string;
  readonly instance: string;
  readonly status: InstanceStatus | string;
  readonly phi: number | string | null;
  readonly lastHeartbeatAt: string | null;
  readonly heartbeat?: { readonly extra?: Readonly<Record<string, unknown>> } | null;
}

export interface InstancesReplyWire {
  readonly leader?: boolean;
  readonly instances: readonly InstanceWire[];
}

export interface ProjectionsReplyWire {
  readonly streams: readonly { readonly stream: string; readonly checkpoint: number; readonly lastSequence: number; readonly lag: number }[];
}

export interface RebalancePlanWire {
  readonly fromEpoch?: number;
  readonly currentEpoch?: number;
  readonly chunksExamined: number;
  readonly bytesExamined: number;
  readonly chunksMoving: number;
  readonly bytesToCopy: number;
  readonly fractionOfBytesMoving: number;
  readonly nodes: readonly { readonly nodeId: string; readonly receiveBytes: number; readonly receiveChunks: number; readonly releaseBytes: number; readonly releaseChunks: number }[];
  readonly throttleBytesPerSecond: number;
  readonly observedBytesPerSecond: number | null;
  readonly estimatedSeconds: number;
}

export interface BucketWire {
  readonly name: string;
  readonly owner: string;
  readonly region?: string;
  readonly createdAt?: string;
  readonly versioning?: string;
  readonly defaultStorageClass?: string;
  readonly deleting?: boolean;
  readonly replication?: ReplicationConfig;
}

export interface AccessKeyWire {
  readonly accessKeyId: string;
  readonly secretAccessKey?: string;
  readonly owner: string;
  readonly isRoot?: boolean;
  readonly createdAt?: string;
  readonly revokedAt?: string | null;
}

export interface IssuedTokenWire {
  readonly token: string;
  readonly id: string;
  readonly role: string;
  readonly label: string;
  readonly expiresAt: string;
}

/** An alert as monitoring lists it; read loosely, since the alerts API is younger than the CLI. */
export interface AlertWire {
  readonly name?: string;
  readonly rule?: string;
  readonly id?: string;
  readonly severity?: string;
  readonly state?: string;
  readonly status?: string;
  readonly since?: string;
  readonly startsAt?: string;
  readonly firingSince?: string | null;
  readonly activeSince?: string;
  readonly summary?: string;
  readonly message?: string;
  readonly description?: string;
  readonly labels?: Readonly<Record<string, string>>;
}
