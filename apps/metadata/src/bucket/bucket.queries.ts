import { MetadataErrorCodes, type BucketEncryption, type ObjectLockConfiguration, type AccessControlList, type ObjectOwnership, type PublicAccessBlock, type BucketView, type CorsConfiguration, type ReplicationConfig, type StorageClass, type Tag, type VersioningStatus } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import { toIso, type Row } from '../adapters/read-model-rows';
import { MetadataError } from '../domain/shared/metadata.errors';

/** S3 answers at most this many buckets in one ListBuckets. */
export const LIST_BUCKETS_MAX = 10_000;

/** The bucket queries over the read model (the buckets table). */
export class BucketQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  async getBucket(name: string): Promise<BucketView | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} WHERE name = $1`, [name]);
    return rows.length === 0 ? null : toBucketView(rows[0]);
  }

  async listBuckets(owner?: string): Promise<BucketView[]> {
    const rows: Row[] =
      owner === undefined
        ? await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} ORDER BY name LIMIT $1`, [LIST_BUCKETS_MAX])
        : await this.dataSource.query(`SELECT * FROM ${this.t('buckets')} WHERE owner = $1 ORDER BY name LIMIT $2`, [owner, LIST_BUCKETS_MAX]);
    // A listing carries no policies (up to 20 KB each) nor CORS configurations; getBucket does.
    return rows.map((row) => toBucketView({ ...row, policy: null, cors: null, acl: null, public_access_block: null, lifecycle: null }));
  }

  /** Versions and delete markers in a bucket, counted up to `cap` (DeleteBucket needs only zero or not). */
  async countBucketVersions(bucket: string, cap: number): Promise<number> {
    const [row]: Row[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${this.t('object_versions')} WHERE bucket = $1 LIMIT $2) AS v`,
      [bucket, cap],
    );
    return Number(row['n']);
  }
}

/** NoSuchBucket unless the read model holds the bucket: what every listing in a bucket checks first. */
export async function requireBucket(dataSource: DataSource, t: (table: string) => string, bucket: string): Promise<void> {
  const rows: Row[] = await dataSource.query(`SELECT 1 FROM ${t('buckets')} WHERE name = $1`, [bucket]);
  if (rows.length === 0) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${bucket} does not exist`, { bucket });
}

function toBucketView(r: Row): BucketView {
  const mode = r['replication_mode'] as ReplicationConfig['mode'];
  const replication: ReplicationConfig = mode === 'active-passive' ? { mode, homeRegion: String(r['home_region']) } : { mode };
  return {
    name: String(r['name']),
    owner: String(r['owner']),
    region: String(r['region']),
    createdAt: toIso(r['created_at']),
    versioning: r['versioning'] as VersioningStatus,
    replication,
    defaultStorageClass: r['default_storage_class'] as StorageClass,
    tags: r['tags'] as Tag[],
    deleting: r['deletion_id'] !== null,
    ...(typeof r['policy'] === 'string' ? { policy: r['policy'] } : {}),
    ...(r['cors'] !== null && r['cors'] !== undefined ? { cors: r['cors'] as CorsConfiguration } : {}),
    ...(r['encryption'] !== null && r['encryption'] !== undefined ? { encryption: r['encryption'] as BucketEncryption } : {}),
    ...(r['object_lock'] !== null && r['object_lock'] !== undefined ? { objectLock: r['object_lock'] as ObjectLockConfiguration } : {}),
    ...(r['acl'] !== null && r['acl'] !== undefined ? { acl: r['acl'] as AccessControlList } : {}),
    ...(typeof r['object_ownership'] === 'string' ? { objectOwnership: r['object_ownership'] as ObjectOwnership } : {}),
    ...(r['public_access_block'] !== null && r['public_access_block'] !== undefined ? { publicAccessBlock: r['public_access_block'] as PublicAccessBlock } : {}),
    ...(r['lifecycle'] !== null && r['lifecycle'] !== undefined ? { lifecycle: r['lifecycle'] as NonNullable<BucketView['lifecycle']> } : {}),
  };
}
