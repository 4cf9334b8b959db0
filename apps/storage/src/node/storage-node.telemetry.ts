import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { JetStreamEventStore } from '@cairn/messaging';
import { ChunkHealthSchemaVersions, subjectsFor, type ChunkCorruptionFound } from '@cairn/protocol';
import { EventClock, HealthRegistry, HeartbeatService, IntervalWorker, MetricsService, SERVICE_IDENTITY, WorkerRegistry, type ServiceIdentity } from '@cairn/service-kit';
import { Counter, Gauge } from 'prom-client';
import { RecentCorruptChunksReporter } from '../chunks/recent-corrupt-chunks.reporter';
import { StorageCapacityService } from '../chunks/storage-capacity.service';
import type { ChunkStoreUsage } from '../domain/chunk-store.port';

export const USAGE_REFRESH_MS = 5_000;
/** Below this much free space the node stops calling itself ready: writes would fail anyway. */
export const MIN_FREE_BYTES = 256 * 1024 * 1024;

/**
 * The node's capacity and usage in /health (a `disk` readiness check plus figures), /metrics
 * (gauges) and the heartbeat (what placement and monitoring read), and each corrupt chunk the
 * store finds published to CLUSTER for the repair job.
 */
@Injectable()
export class StorageNodeTelemetry implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('StorageNode');
  private usage: ChunkStoreUsage | undefined;
  private readonly usageRefresh = new IntervalWorker('storage-usage', USAGE_REFRESH_MS, () => this.refresh().then(() => undefined), { logger: this.logger });

  constructor(
    private readonly capacity: StorageCapacityService,
    private readonly corrupt: RecentCorruptChunksReporter,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    private readonly heartbeat: HeartbeatService,
    private readonly events: JetStreamEventStore,
    private readonly clock: EventClock,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.workers.register(this.usageRefresh);
    this.usageRefresh.start();

    this.health.register('disk', async () => {
      const usage = await this.refresh();
      if (usage.freeBytes < MIN_FREE_BYTES) throw new Error(`only ${usage.freeBytes} bytes free`);
      return { freeBytes: usage.freeBytes, capacityBytes: usage.capacityBytes };
    });
    this.health.registerInfo('storage', () => ({ ...this.usage, recentCorruptChunks: this.corrupt.recent().length }));

    const gauge = (name: string, help: string, read: (u: ChunkStoreUsage) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.metrics.registry],
        collect: async function (this: Gauge) {
          this.set(read(await capacity.snapshot()));
        },
      });
    const capacity = this.capacity;
    gauge('cairn_storage_chunks', 'Chunks held by this node', (u) => u.chunkCount);
    gauge('cairn_storage_chunk_bytes', 'Bytes of chunk data held by this node', (u) => u.chunkBytes);
    gauge('cairn_storage_capacity_bytes', 'Size of the file system holding the chunks', (u) => u.capacityBytes);
    gauge('cairn_storage_free_bytes', 'Free bytes on the file system holding the chunks', (u) => u.freeBytes);
    gauge('cairn_storage_pack_live_ratio', 'Live bytes over file bytes across pack files (compaction due when low)', (u) =>
      u.packFileBytes === 0 ? 1 : u.packLiveBytes / u.packFileBytes,
    );
    new Counter({
      name: 'cairn_storage_corrupt_chunks_found_total',
      help: 'Corrupt chunks found on read or scrub since start',
      registers: [this.metrics.registry],
      collect: async function (this: Counter) {
        this.reset();
        this.inc((await capacity.snapshot()).corruptChunksFound);
      },
    });

    this.heartbeat.addFigure('capacityBytes', () => this.usage?.capacityBytes ?? 0);
    this.heartbeat.addFigure('freeBytes', () => this.usage?.freeBytes ?? 0);
    this.heartbeat.addFigure('chunkCount', () => this.usage?.chunkCount ?? 0);

    const subjects = subjectsFor(this.identity.namespace);
    this.corrupt.onReport((report) => {
      const event: ChunkCorruptionFound = {
        type: 'ChunkCorruptionFound',
        data: { hash: report.hash, nodeId: this.identity.instance, movedTo: report.movedTo, detail: report.detail, foundAt: report.foundAt },
      };
      const envelope = this.clock.envelope(event, report.hash, ChunkHealthSchemaVersions.ChunkCorruptionFound);
      this.events.publish(subjects.chunkHealth(report.hash), envelope).catch((error: unknown) => {
        this.logger.error(`could not publish corruption of ${report.hash}: ${String(error)}`);
      });
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.usageRefresh.stop();
    this.workers.unregister(this.usageRefresh.name);
  }

  private async refresh(): Promise<ChunkStoreUsage> {
    this.usage = await this.capacity.snapshot();
    return this.usage;
  }
}
