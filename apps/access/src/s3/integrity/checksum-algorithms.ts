import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from './crc32c';
import { Crc64Nvme } from './crc64-nvme';

/** The additional checksums S3 accepts (`x-amz-checksum-<lowercase name>`). */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Raw digest length of each algorithm, used to validate the base64 values clients declare. */
export const CHECKSUM_DIGEST_LENGTH_BYTES: Readonly<Record<ChecksumAlgorithm | 'MD5', number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
  MD5: 16,
};

export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const upper = name.toUpperCase();
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper) ? (upper as ChecksumAlgorithm) : undefined;
}

/** An incremental digest. `digest()` may be called once. */
export interface IncrementalDigest {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

class NodeHashDigest implements IncrementalDigest {
  private readonly hash: Hash;
  constructor(algorithm: 'md5' | 'sha1' | 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

class Crc32Digest implements IncrementalDigest {
  private value = 0;
  update(data: Uint8Array): void {
    this.value = crc32(data, this.value);
  }
  digest(): Buffer {
    return uint32BigEndian(this.value);
  }
}

class Crc32cDigest implements IncrementalDigest {
  private readonly crc = new Crc32c();
  update(data: Uint8Array): void {
    this.crc.update(data);
  }
  digest(): Buffer {
    return this.crc.digest();
  }
}

class Crc64NvmeDigest implements IncrementalDigest {
  private readonly crc = new Crc64Nvme();
  update(data: Uint8Array): void {
    this.crc.update(data);
  }
  digest(): Buffer {
    return this.crc.digest();
  }
}

function uint32BigEndian(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function createDigest(algorithm: ChecksumAlgorithm | 'MD5'): IncrementalDigest {
  switch (algorithm) {
    case 'MD5':
      return new NodeHashDigest('md5');
    case 'SHA1':
      return new NodeHashDigest('sha1');
    case 'SHA256':
      return new NodeHashDigest('sha256');
    case 'CRC32':
      return new Crc32Digest();
    case 'CRC32C':
      return new Crc32cDigest();
    case 'CRC64NVME':
      return new Crc64NvmeDigest();
    default: {
      const unknown: never = algorithm;
      throw new Error(`unknown checksum algorithm ${String(unknown)}`);
    }
  }
}
