export { ChunksModule, type ChunksModuleAsyncOptions } from './chunks.module';
export { ChunksController } from './chunks.controller';
export { StorageCapacityService } from './storage-capacity.service';
export { RecentCorruptChunksReporter } from './recent-corrupt-chunks.reporter';
export { STORAGE_CONFIG, CORRUPT_CHUNK_REPORTER, type StorageChunksConfig } from './storage-config';
export { CHUNK_STORE, type ChunkStore, type ChunkStoreUsage } from '../domain/chunk-store.port';
