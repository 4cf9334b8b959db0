import { CairnError, MetadataErrorCodes } from '@cairn/protocol';
import type { MetadataRpcClient } from '../adapters/metadata-rpc.client';
import type { ObjectKeys } from './object-keys';

/** Versions listed per page while re-wrapping. */
const REWRAP_PAGE_KEYS = 1000;

export interface RewrapReport {
  /** The master key version data keys are wrapped by now. */
  readonly version: string;
  /** Versions (not delete markers) looked at. */
  readonly scanned: number;
  /** SSE-S3 versions whose data key was wrapped again under `version`. */
  readonly rewrapped: number;
  /** Access-key secrets sealed again under `version` by metadata. */
  readonly resealedAccessKeys: number;
}

/**
 * Master key rotation (docs/encryption.md): a new master key version becomes current, then every
 * SSE-S3 version's data key is unwrapped with the old version and wrapped with the new one, one
 * ObjectDataKeyRewrapped event per version on its key's subject. Chunks are never rewritten. A
 * rewrap is conditional on the version still being wrapped by the version read (two rotations
 * racing, or a rerun after a crash, do each version once); old master versions stay in the keyring
 * until an operator retires them after a complete run.
 */
export class MasterKeyRotation {
  constructor(
    private readonly metadata: MetadataRpcClient,
    private readonly objectKeys: ObjectKeys,
  ) {}

  async rotate(): Promise<RewrapReport> {
    const keys = this.objectKeys.keyService;
    if (!keys) throw new Error('no keyring is configured (CAIRN_MASTER_KEY_FILE)');
    keys.rotateMaster();
    return this.rewrapAll();
  }

  /** Wraps every SSE-S3 data key under the current master version (a rerun finishes an interrupted rotation). */
  async rewrapAll(): Promise<RewrapReport> {
    const keys = this.objectKeys.keyService;
    if (!keys) throw new Error('no keyring is configured (CAIRN_MASTER_KEY_FILE)');
    const version = keys.currentMasterVersion;
    let scanned = 0;
    let rewrapped = 0;
    const { buckets } = await this.metadata.listBuckets({});
    for (const bucket of buckets) {
      let keyMarker: string | undefined;
      let versionIdMarker: string | undefined;
      for (;;) {
        const page = await this.metadata.listObjectVersions({
          bucket: bucket.name,
          maxKeys: REWRAP_PAGE_KEYS,
          ...(keyMarker !== undefined ? { keyMarker } : {}),
          ...(versionIdMarker !== undefined ? { versionIdMarker } : {}),
        });
        for (const summary of page.versions) {
          if (summary.isDeleteMarker) continue;
          scanned++;
          const view = await this.metadata.headObject({ bucket: bucket.name, key: summary.key, versionId: summary.versionId }).catch(() => undefined);
          const encryption = view?.encryption;
          if (!encryption) continue;
          const next = this.objectKeys.rewrapToCurrent(encryption);
          if (!next) continue;
          const reply = await this.metadata.rewrapObjectKey({ bucket: bucket.name, key: summary.key, versionId: summary.versionId, fromKeyId: encryption.keyId, encryption: next });
          if (reply.rewrapped) rewrapped++;
        }
        if (!page.isTruncated) break;
        keyMarker = page.nextKeyMarker;
        versionIdMarker = page.nextVersionIdMarker;
      }
    }
    // Access-key secrets are metadata's to seal (it holds them); it reseals those under older versions.
    // A metadata service without the keyring keeps secrets as sent: nothing of its to reseal.
    const resealed = await this.metadata.resealAccessKeys().then(
      (reply) => reply.resealed,
      (error: unknown) => {
        if (error instanceof CairnError && error.code === MetadataErrorCodes.InvalidRequest) return 0;
        throw error;
      },
    );
    return { version, scanned, rewrapped, resealedAccessKeys: resealed };
  }
}
