import { Transform, type TransformCallback } from 'node:stream';
import { createDigest, type ChecksumAlgorithm, type IncrementalDigest } from './checksum-algorithms';

/** What a body hashed to: MD5 always (the ETag), SHA-256 when asked, and any S3 checksums. */
export interface ComputedDigests {
  readonly sizeBytes: number;
  readonly md5: Buffer;
  readonly sha256?: Buffer;
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, Buffer>>>;
}

export interface IntegrityHasherOptions {
  readonly checksumAlgorithms?: readonly ChecksumAlgorithm[];
  /** Hash SHA-256 of the payload (for `x-amz-content-sha256` with a hex value). */
  readonly sha256?: boolean;
  /** False: the caller hashes the MD5 elsewhere (another thread) and hands it to `result`. */
  readonly md5?: boolean;
}

/**
 * A pass-through stream that hashes everything flowing through it in one pass. The digests are
 * available from `result()` once the stream has flushed.
 */
export class IntegrityHasher extends Transform {
  private readonly md5?: IncrementalDigest;
  private readonly sha256?: IncrementalDigest;
  private readonly checksumDigests: ReadonlyArray<readonly [ChecksumAlgorithm, IncrementalDigest]>;
  /** Each distinct digest once (SHA-256 may serve both the payload hash and the S3 checksum). */
  private readonly allDigests: readonly IncrementalDigest[];
  private sizeBytes = 0;
  private computed?: Omit<ComputedDigests, 'md5'> & { readonly md5?: Buffer };

  constructor(options: IntegrityHasherOptions = {}) {
    super();
    this.md5 = options.md5 === false ? undefined : createDigest('MD5');
    const algorithms = new Set(options.checksumAlgorithms ?? []);
    const wantSha256 = options.sha256 === true;
    this.sha256 = wantSha256 ? createDigest('SHA256') : undefined;
    this.checksumDigests = [...algorithms].map(
      (algorithm) => [algorithm, algorithm === 'SHA256' && this.sha256 ? this.sha256 : createDigest(algorithm)] as const,
    );
    this.allDigests = [...new Set([...(this.md5 ? [this.md5] : []), ...(this.sha256 ? [this.sha256] : []), ...this.checksumDigests.map(([, digest]) => digest)])];
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sizeBytes += chunk.length;
    for (const digest of this.allDigests) digest.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const sha256 = this.sha256?.digest();
    const checksums: Partial<Record<ChecksumAlgorithm, Buffer>> = {};
    for (const [algorithm, digest] of this.checksumDigests) {
      checksums[algorithm] = algorithm === 'SHA256' && sha256 ? sha256 : digest.digest();
    }
    this.computed = { sizeBytes: this.sizeBytes, md5: this.md5?.digest(), sha256, checksums };
    callback();
  }

  /** The digests; throws if the stream has not finished. `md5`: the one hashed elsewhere (option md5: false). */
  result(md5?: Buffer): ComputedDigests {
    if (!this.computed) throw new Error('IntegrityHasher.result() called before the stream finished');
    const bodyMd5 = this.computed.md5 ?? md5;
    if (!bodyMd5) throw new Error('IntegrityHasher.result() needs the MD5 hashed elsewhere');
    return { ...this.computed, md5: bodyMd5 };
  }
}
