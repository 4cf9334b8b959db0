import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { CHUNK_STORE, type ChunkStore, type ChunkStoreUsage } from '../domain/chunk-store.port';

/** Capacity and usage of this node's chunk store, for /health, /metrics and the heartbeat. */
@Injectable()
export class StorageCapacityService implements OnApplicationShutdown {
  constructor(@Inject(CHUNK_STORE) private readonly store: ChunkStore) {}

  snapshot(): Promise<ChunkStoreUsage> {
    return this.store.usage();
  }

  /** The store is closed here because this service is the one every app imports and keeps. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
