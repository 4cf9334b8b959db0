import { createHash } from 'node:crypto';
import type { AntiEntropyKeyDigest, ReplicaLeaf } from '@cairn/protocol';

/**
 * A key's anti-entropy digest: SHA-256 over the key and each of its versions' (versionId, etag,
 * deleted), versions in the order metadata lists them (version id, bytewise), every field
 * length-prefixed. Two regions holding the same versions of a key compute the same digest; any
 * version more, less or different changes it.
 */
export function keyDigestOf(key: string, versions: readonly Pick<ReplicaLeaf, 'versionId' | 'etag' | 'deleted'>[]): string {
  const h = createHash('sha256');
  const field = (value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length, 0);
    h.update(length).update(bytes);
  };
  field(key);
  for (const v of versions) {
    field(v.versionId);
    field(v.etag === null ? '' : v.etag);
    field(v.deleted ? 'deleted' : 'live');
  }
  return h.digest('hex');
}

/**
 * Turns leaves in (keyId, versionId) order, as pages of ListReplicaLeaves bring them, into one
 * digest per key; a key split across pages is held until its last version has been seen. Also
 * remembers each key's version ids when asked (what repair needs to skip chunks it has).
 */
export class KeyDigestFolder {
  private keyId: string | undefined;
  private key = '';
  private versions: Pick<ReplicaLeaf, 'versionId' | 'etag' | 'deleted'>[] = [];

  /** Adds a page; returns the keys it completed (all but the last key seen, which may go on). */
  add(leaves: readonly ReplicaLeaf[]): AntiEntropyKeyDigest[] {
    const done: AntiEntropyKeyDigest[] = [];
    for (const leaf of leaves) {
      if (leaf.keyId !== this.keyId) {
        if (this.keyId !== undefined) done.push({ keyId: this.keyId, digest: keyDigestOf(this.key, this.versions) });
        this.keyId = leaf.keyId;
        this.key = leaf.key;
        this.versions = [];
      }
      this.versions.push({ versionId: leaf.versionId, etag: leaf.etag, deleted: leaf.deleted });
    }
    return done;
  }

  /** The last key, once no more leaves follow. */
  end(): AntiEntropyKeyDigest[] {
    if (this.keyId === undefined) return [];
    const last = { keyId: this.keyId, digest: keyDigestOf(this.key, this.versions) };
    this.keyId = undefined;
    this.versions = [];
    return [last];
  }
}
