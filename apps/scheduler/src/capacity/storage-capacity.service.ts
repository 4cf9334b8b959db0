import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { describeError } from '@cairn/chunk-client';
import type { StorageCapacityReply, StorageClassCapacity } from '@cairn/protocol';
import { MetricsService } from '@cairn/service-kit';
import { ClusterView } from '../cluster/cluster-view';

/** A capacity report is reused this long (metrics scrapes and the admin API share it). */
export const CAPACITY_REPORT_MAX_AGE_MS = 10_000;
/** How long one node's /health may take. */
export const NODE_HEALTH_TIMEOUT_MS = 5_000;

export interface NodeCapacity {
  readonly nodeId: string;
  readonly reachable: boolean;
  /** Bytes of chunk data (whole chunks and shards) on the node's disk. */
  readonly chunkBytes: number | null;
  readonly chunkCount: number | null;
  readonly capacityBytes: number | null;
  readonly freeBytes: number | null;
  readonly error?: string;
}

export interface CapacityReport {
  readonly at: string;
  readonly classes: readonly StorageClassCapacity[];
  readonly totals: {
    readonly logicalBytes: number;
    readonly storedBytes: number;
    readonly threeCopyBytes: number;
    /** What erasure coding (and REDUCED_REDUNDANCY) saves against three copies of everything. */
    readonly savingBytes: number;
    /** Bytes on the nodes per logical byte (inline bytes are in metadata: they count as logical only). */
    readonly storedPerLogical: number | null;
    /** Chunk bytes the nodes report holding, all together. */
    readonly rawBytesOnNodes: number;
  };
  readonly nodes: readonly NodeCapacity[];
  readonly asOfSequence: number;
}

/**
 * Capacity accounting (docs/storage-classes.md): bytes per storage class from metadata, raw bytes on
 * each node's disk from its /health, and erasure coding's saving against three copies. Served by
 * GET /admin/capacity and as cairn_capacity_* metrics.
 */
@Injectable()
export class StorageCapacityService implements OnApplicationBootstrap {
  private last: { readonly atMs: number; readonly report: CapacityReport } | null = null;
  private inFlight: Promise<CapacityReport> | null = null;

  constructor(
    private readonly cluster: ClusterView,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.registerMetrics();
  }

  /** The latest report, measured again when older than CAPACITY_REPORT_MAX_AGE_MS. */
  async report(): Promise<CapacityReport> {
    if (this.last && Date.now() - this.last.atMs < CAPACITY_REPORT_MAX_AGE_MS) return this.last.report;
    this.inFlight ??= this.measure().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async measure(): Promise<CapacityReport> {
    await this.cluster.ring.ready();
    const [byClass, nodes] = await Promise.all([this.cluster.storageCapacity(), Promise.all(this.cluster.ring.nodes().map((n) => this.nodeCapacity(n.nodeId)))]);
    const report = capacityReport(byClass, nodes, new Date().toISOString());
    this.last = { atMs: Date.now(), report };
    return report;
  }

  private async nodeCapacity(nodeId: string): Promise<NodeCapacity> {
    try {
      const res = await this.cluster.pools.for(nodeId).request({ path: '/health', method: 'GET', headersTimeout: NODE_HEALTH_TIMEOUT_MS, bodyTimeout: NODE_HEALTH_TIMEOUT_MS });
      const body = (await res.body.json()) as unknown;
      const usage = findStorageUsage(body);
      if (!usage) return { nodeId, reachable: true, chunkBytes: null, chunkCount: null, capacityBytes: null, freeBytes: null, error: `HTTP ${res.statusCode}: no storage figures` };
      return { nodeId, reachable: true, chunkBytes: usage.chunkBytes, chunkCount: usage.chunkCount, capacityBytes: usage.capacityBytes, freeBytes: usage.freeBytes };
    } catch (error) {
      return { nodeId, reachable: false, chunkBytes: null, chunkCount: null, capacityBytes: null, freeBytes: null, error: describeError(error) };
    }
  }

  private registerMetrics(): void {
    const registers = [this.metrics.registry];
    const byClass = (name: string, help: string, value: (c: StorageClassCapacity) => number) => {
      const gauge: Gauge<'class'> = new Gauge({
        name,
        help,
        labelNames: ['class'],
        registers,
        collect: async () => {
          const report = await this.report().catch(() => null);
          gauge.reset();
          for (const c of report?.classes ?? []) gauge.set({ class: c.storageClass }, value(c));
        },
      });
    };
    byClass('cairn_capacity_class_logical_bytes', 'Bytes clients stored per storage class (versions, noncurrent included)', (c) => c.logicalBytes);
    byClass('cairn_capacity_class_stored_bytes', 'Bytes on the storage nodes per storage class (replicas times RF, stripes times k+m shards)', (c) => c.storedBytes);
    byClass('cairn_capacity_class_versions', 'Object versions per storage class', (c) => c.versions);
    byClass('cairn_capacity_class_saving_bytes', 'Bytes a storage class saves against three copies of the same chunks', (c) => Math.max(0, c.threeCopyBytes - c.storedBytes));
    const node: Gauge<'node'> = new Gauge({
      name: 'cairn_capacity_node_chunk_bytes',
      help: 'Chunk bytes (whole chunks and shards) on each storage node’s disk',
      labelNames: ['node'],
      registers,
      collect: async () => {
        const report = await this.report().catch(() => null);
        node.reset();
        for (const n of report?.nodes ?? []) if (n.chunkBytes !== null) node.set({ node: n.nodeId }, n.chunkBytes);
      },
    });
  }
}

/** The report's totals from its parts (pure). */
export function capacityReport(byClass: StorageCapacityReply, nodes: readonly NodeCapacity[], at: string): CapacityReport {
  const logicalBytes = sum(byClass.classes.map((c) => c.logicalBytes));
  const storedBytes = sum(byClass.classes.map((c) => c.storedBytes));
  const threeCopyBytes = sum(byClass.classes.map((c) => c.threeCopyBytes));
  const onNodes = logicalBytes - sum(byClass.classes.map((c) => c.inlineBytes));
  return {
    at,
    classes: byClass.classes,
    totals: {
      logicalBytes,
      storedBytes,
      threeCopyBytes,
      savingBytes: Math.max(0, threeCopyBytes - storedBytes),
      storedPerLogical: onNodes > 0 ? storedBytes / onNodes : null,
      rawBytesOnNodes: sum(nodes.map((n) => n.chunkBytes ?? 0)),
    },
    nodes,
    asOfSequence: byClass.asOfSequence,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

interface StorageUsage {
  readonly chunkBytes: number;
  readonly chunkCount: number;
  readonly capacityBytes: number;
  readonly freeBytes: number;
}

/** A storage node's usage figures wherever its /health puts them (its `storage` info). */
function findStorageUsage(value: unknown, depth = 0): StorageUsage | null {
  if (value === null || typeof value !== 'object' || depth > 4) return null;
  const record = value as Record<string, unknown>;
  if (typeof record['chunkBytes'] === 'number' && typeof record['capacityBytes'] === 'number') {
    return { chunkBytes: record['chunkBytes'], chunkCount: Number(record['chunkCount'] ?? 0), capacityBytes: record['capacityBytes'], freeBytes: Number(record['freeBytes'] ?? 0) };
  }
  for (const child of Object.values(record)) {
    const found = findStorageUsage(child, depth + 1);
    if (found) return found;
  }
  return null;
}
