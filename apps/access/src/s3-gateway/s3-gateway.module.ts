import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ChunkClient, erasureCodeOf, JetStreamNodeHealthFeed, JetStreamUnderReplicationRecorder, NodeHealthView, NodePools, ReadRepairReporter, StorageClassChunks, StorageRingProvider, regionReplication } from '@cairn/chunk-client';
import { JetStreamEventStore, NatsConnectionManager, RpcClient, StreamTail } from '@cairn/messaging';
import { ChunkHealthSchemaVersions, bucketOfToken, subjectsFor, type ChunkRef, type StorageClass } from '@cairn/protocol';
import { parseContentHash } from '@cairn/hashing';
import type { Logger } from 'pino';
import { KeyService, ClusterCredentials, createLogger, internalTlsTrust, EventClock, MetricsService, resolveClusterSecret, secretConfigValues, type ServiceIdentity } from '@cairn/service-kit';
import type { AccessConfig } from '../access.config';
import { AccessKeyRpcLookup } from '../adapters/access-key-rpc.lookup';
import { DirectObjectReads } from '../adapters/direct-object-reads';
import { MetadataRpcClient } from '../adapters/metadata-rpc.client';
import { UserDirectory } from '../adapters/user-directory';
import { ChunkClientStoreAdapter } from '../data-path/chunk-client-store.adapter';
import { MemoryBudget } from '../data-path/memory-budget';
import { ReadSlabs } from '../data-path/read-slabs';
import { processHashWorkers } from '../data-path/upload-hashes';
import { ACCESS_KEY_LOOKUP, SigV4Verifier } from '../s3';
import { ChangeFeedHandler } from '../change-feed/change-feed.handler';
import { ChangeFeedReader } from '../change-feed/change-feed.reader';
import { S3Gateway } from './s3-gateway.middleware';
import { ObjectKeys } from '../encryption/object-keys';
import { KeyAdminHandler } from '../encryption/key-admin.handler';
import { MasterKeyRotation } from '../encryption/master-key-rotation';
import { s3Handlers } from './s3-handlers';

const GATEWAY_PARTS = Symbol('S3GatewayParts');
/** Object bytes buffered for uploads, all requests together (32 chunks of 8 MiB). */
export const WRITE_BUFFER_BUDGET_BYTES = 256 * 1024 * 1024;
/** Object bytes held for verified reads, all requests together. */
export const READ_BUFFER_BUDGET_BYTES = 256 * 1024 * 1024;

interface GatewayParts {
  readonly gateway: S3Gateway;
  readonly ring: StorageRingProvider;
  readonly chunkClient: ChunkClient;
  /** Storage nodes monitoring declared down, followed on CLUSTER: the chunk client sends them nothing. */
  readonly nodeHealth: JetStreamNodeHealthFeed;
  /** Followers of bucket and access-key events, which drop cached views of what changed. */
  readonly tails: readonly StreamTail[];
  /** GET /_cairn/changes/<bucket>: its long polls and SSE streams end before the server closes. */
  readonly changeFeed: ChangeFeedHandler;
}

class S3GatewayLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(GATEWAY_PARTS) private readonly parts: GatewayParts) {}

  onModuleInit(): void {
    this.parts.ring.start(() => {
      // A failed epoch check is retried on the next tick; requests load the ring on demand.
    });
    for (const tail of this.parts.tails) tail.start();
    this.parts.nodeHealth.start();
  }

  /** Before the HTTP server closes, which waits for open requests. */
  beforeApplicationShutdown(): void {
    this.parts.changeFeed.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.parts.tails.map((tail) => tail.stop()));
    await this.parts.nodeHealth.stop();
    this.parts.ring.stop();
    await this.parts.chunkClient.close();
  }
}

/**
 * Bucket and access-key changes made through any gateway (or metadata's admin API) reach this
 * gateway's caches within moments; the caches' TTLs only cover a change the tails missed.
 */
function cacheInvalidationTails(nats: NatsConnectionManager, namespace: string, metadata: MetadataRpcClient, keys: AccessKeyRpcLookup, logger: Logger): StreamTail[] {
  const subjects = subjectsFor(namespace);
  const stream = subjects.streamName('META');
  const onError = (error: unknown) => logger.warn({ err: error }, 'cannot follow META for cache invalidation; retrying');
  const bucketPrefix = subjects.bucketWildcard().slice(0, -1);
  const keyPrefix = subjects.accessKeyWildcard().slice(0, -1);
  return [
    new StreamTail(nats, { stream, subject: subjects.bucketWildcard(), onError, onMessage: (m) => metadata.bucketChanged(bucketOfToken(m.subject.slice(bucketPrefix.length)), m.sequence) }),
    new StreamTail(nats, { stream, subject: subjects.accessKeyWildcard(), onError, onMessage: (m) => keys.changed(m.subject.slice(keyPrefix.length), m.sequence) }),
  ];
}

/**
 * The composition root of the S3 gateway: metadata over RPC, the storage ring from membership,
 * the replication client, SigV4 against metadata's keys, and the handlers.
 */
@Module({})
export class S3GatewayModule {
  static forRoot(config: AccessConfig, identity: ServiceIdentity): DynamicModule {
    return {
      module: S3GatewayModule,
      providers: [
        {
          provide: MetadataRpcClient,
          useFactory: (rpc: RpcClient, events: JetStreamEventStore) =>
            new MetadataRpcClient(rpc, config.CAIRN_CACHE_TTL_MS, Date.now, new DirectObjectReads(events, identity.namespace)),
          inject: [RpcClient, JetStreamEventStore],
        },
        // The region keyring: SSE-S3/KMS data keys, and the sealed access-key secrets SigV4 opens in memory.
        { provide: ObjectKeys, useFactory: () => new ObjectKeys(config.CAIRN_MASTER_KEY_FILE === '' ? undefined : KeyService.open(config.CAIRN_MASTER_KEY_FILE, { create: config.CAIRN_MASTER_KEY_CREATE })) },
        {
          provide: AccessKeyRpcLookup,
          useFactory: (metadata: MetadataRpcClient, objectKeys: ObjectKeys) => new AccessKeyRpcLookup(metadata.getAccessKey, config.CAIRN_CACHE_TTL_MS, Date.now, objectKeys.keyService),
          inject: [MetadataRpcClient, ObjectKeys],
        },
        { provide: ACCESS_KEY_LOOKUP, useExisting: AccessKeyRpcLookup },
        {
          provide: GATEWAY_PARTS,
          inject: [MetadataRpcClient, AccessKeyRpcLookup, JetStreamEventStore, EventClock, NatsConnectionManager, ClusterCredentials, MetricsService, ObjectKeys],
          useFactory: (
            metadata: MetadataRpcClient,
            keys: AccessKeyRpcLookup,
            events: JetStreamEventStore,
            clock: EventClock,
            nats: NatsConnectionManager,
            credentials: ClusterCredentials,
            metrics: MetricsService,
            objectKeys: ObjectKeys,
          ): GatewayParts => {
            const logger = createLogger({ ...identity, level: config.CAIRN_LOG_LEVEL, secrets: [...secretConfigValues(config), resolveClusterSecret(config)] });
            const ring = new StorageRingProvider(metadata.listNodes, metadata.ringEpoch);
            // A write is acknowledged only once each replica it missed is on record for repair.
            const underReplication = new JetStreamUnderReplicationRecorder(events, identity.namespace, (event, hash) =>
              clock.envelope(event, hash, ChunkHealthSchemaVersions.ChunkUnderReplicated),
            );
            const health = new NodeHealthView();
            health.onChange((c) => logger.info({ nodeId: c.nodeId }, c.down ? 'storage node declared down: writes skip it, reads try it last' : 'storage node recovered'));
            const nodeHealth = new JetStreamNodeHealthFeed(nats, health, {
              namespace: identity.namespace,
              region: identity.region,
              onError: (error) => logger.warn({ err: error }, 'cannot follow storage node health on CLUSTER; retrying'),
            });
            const readRepair = new ReadRepairReporter(underReplication, () => ring.ring().epoch, (error) => logger.warn({ err: error }, 'read repair not recorded'));
            const pools = new NodePools((nodeId) => ring.addressOf(nodeId), credentials.httpInterceptor(), internalTlsTrust(config));
            // Every storage class's chunks (docs/storage-classes.md): replicated ones through the ChunkClient, erasure-coded ones as stripes.
            const replication = regionReplication(config.CAIRN_REPLICATION_FACTOR);
            const classes = new StorageClassChunks({
              replication,
              client: {
                ring: () => ring.ring(),
                addressOf: (nodeId) => ring.addressOf(nodeId),
                pools,
                underReplication,
                health,
                onReadFailover: readRepair.onReadFailover,
                fallbackReadNodes: (hash) => ring.fallbackReadNodes(hash, replication.standard.replicationFactor),
                ringMoved: () => ring.ringMoved(),
              },
              erasureCode: erasureCodeOf(config),
            });
            const chunkClient = classes.client;
            const store = new ChunkClientStoreAdapter(chunkClient);
            const chunks = {
              writeIn: async (bytes: Uint8Array, storageClass: StorageClass, name?: string) => {
                await ring.ready();
                return classes.write(bytes, storageClass, name === undefined ? undefined : parseContentHash(name));
              },
              readChunk: async (chunk: ChunkRef, range?: { start: number; end: number }, into?: Buffer) => {
                await ring.ready();
                return classes.read(chunk, range, undefined, into);
              },
              rewrite: async (refs: readonly ChunkRef[], storageClass: StorageClass) => {
                await ring.ready();
                return classes.rewrite(refs, storageClass);
              },
              write: async (bytes: Uint8Array, name?: string) => {
                await ring.ready();
                return store.write(bytes, name);
              },
              read: async (hash: string, range?: { start: number; end: number }, into?: Buffer) => {
                await ring.ready();
                return store.read(hash, range, into);
              },
            };
            const deps = {
              metadata,
              users: new UserDirectory(metadata),
              chunks,
              chunkSizeBytes: config.CAIRN_CHUNK_SIZE_BYTES,
              inlineObjectMaxBytes: config.CAIRN_INLINE_OBJECT_MAX_BYTES,
              writeBudget: new MemoryBudget(WRITE_BUFFER_BUDGET_BYTES),
              readBudget: new MemoryBudget(READ_BUFFER_BUDGET_BYTES),
              readSlabs: ReadSlabs.forChunksOf(config.CAIRN_CHUNK_SIZE_BYTES),
              uploadHashes: () => processHashWorkers().open(),
              s3Region: config.CAIRN_S3_REGION,
              nowMs: Date.now,
              objectKeys,
            };
            const changeFeed = new ChangeFeedHandler({ reader: new ChangeFeedReader(nats, identity.namespace), logger });
            const gateway = new S3Gateway({
              verifier: new SigV4Verifier(keys, { region: config.CAIRN_S3_REGION }),
              routing: { baseDomains: config.CAIRN_S3_BASE_DOMAINS.split(',') },
              handlers: s3Handlers(deps),
              bucketOf: (bucket) => metadata.getBucket({ bucket }),
              objectAclOf: async (bucket, key, versionId) => (await metadata.headObject({ bucket, key, ...(versionId === undefined ? {} : { versionId }) })).acl,
              logger,
              instance: identity.instance,
              issueOperatorToken: (request) => credentials.mintOperatorToken(request),
              metrics: metrics.registry,
              changeFeed,
              keyAdmin: new KeyAdminHandler(objectKeys, new MasterKeyRotation(metadata, objectKeys)),
            });
            return { gateway, ring, chunkClient, nodeHealth, tails: cacheInvalidationTails(nats, identity.namespace, metadata, keys, logger), changeFeed };
          },
        },
        S3GatewayLifecycle,
        { provide: S3Gateway, useFactory: (parts: GatewayParts) => parts.gateway, inject: [GATEWAY_PARTS] },
      ],
      exports: [S3Gateway, MetadataRpcClient],
    };
  }
}
