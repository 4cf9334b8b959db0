import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { FileChunkStore } from '../adapters/file-chunk-store.adapter';
import { FileFencingTokenStore } from '../adapters/file-fencing-token.adapter';
import { CHUNK_STORE } from '../domain/chunk-store.port';
import { ChunksController } from './chunks.controller';
import { RecentCorruptChunksReporter } from './recent-corrupt-chunks.reporter';
import { StorageCapacityService } from './storage-capacity.service';
import { StorageReserve, StorageReserveInterceptor } from './storage-reserve';
import { CORRUPT_CHUNK_REPORTER, FENCING_TOKEN_STORE, STORAGE_CONFIG, type StorageChunksConfig } from './storage-config';

export interface ChunksModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: unknown[];
  readonly useFactory: (...args: never[]) => StorageChunksConfig | Promise<StorageChunksConfig>;
}

/**
 * The chunk store and its HTTP data plane. The app module supplies the config, either as a
 * value (forRoot) or from its own config provider (forRootAsync).
 */
@Module({})
export class ChunksModule {
  static forRoot(config: StorageChunksConfig): DynamicModule {
    return ChunksModule.forRootAsync({ useFactory: () => config });
  }

  static forRootAsync(options: ChunksModuleAsyncOptions): DynamicModule {
    return {
      module: ChunksModule,
      imports: options.imports ?? [],
      controllers: [ChunksController],
      providers: [
        { provide: STORAGE_CONFIG, useFactory: options.useFactory, inject: (options.inject ?? []) as never[] },
        RecentCorruptChunksReporter,
        { provide: CORRUPT_CHUNK_REPORTER, useExisting: RecentCorruptChunksReporter },
        {
          provide: CHUNK_STORE,
          inject: [STORAGE_CONFIG, CORRUPT_CHUNK_REPORTER],
          useFactory: (config: StorageChunksConfig, reporter: RecentCorruptChunksReporter) =>
            FileChunkStore.open({ ...config, corruptChunkReporter: reporter }),
        },
        { provide: FENCING_TOKEN_STORE, inject: [STORAGE_CONFIG], useFactory: (config: StorageChunksConfig) => FileFencingTokenStore.open(config.dataDir) },
        StorageCapacityService,
        { provide: StorageReserve, inject: [STORAGE_CONFIG], useFactory: (config: StorageChunksConfig) => new StorageReserve(config) },
        { provide: APP_INTERCEPTOR, useClass: StorageReserveInterceptor },
      ],
      exports: [STORAGE_CONFIG, CHUNK_STORE, CORRUPT_CHUNK_REPORTER, RecentCorruptChunksReporter, StorageCapacityService],
    };
  }
}
