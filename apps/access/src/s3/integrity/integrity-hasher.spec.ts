import { Crc32, Crc32c } from '@aws-sdk/checksums/crc';
import { CHECKSUM_ALGORITHMS } from './checksum-algorithms';
import { IntegrityHasher } from './integrity-hasher';
import { pipeThrough } from '../../testing/pipe-through';

describe('IntegrityHasher', () => {
  const check = Buffer.from('123456789');

  it('computes the catalogue check values for "123456789" and passes the bytes through unchanged', async () => {
    const hasher = new IntegrityHasher({ checksumAlgorithms: CHECKSUM_ALGORITHMS, sha256: true });
    const out = await pipeThrough([check.subarray(0, 4), check.subarray(4)], hasher);
    expect(out.equals(check)).toBe(true);
    const result = hasher.result();
    expect(result.sizeBytes).toBe(9);
    expect(result.md5.toString('hex')).toBe('25f9e794323b453885f5181f1b624d0b');
    expect(result.sha256?.toString('hex')).toBe('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
    expect(result.checksums.CRC32?.toString('hex')).toBe('cbf43926');
    expect(result.checksums.CRC32C?.toString('hex')).toBe('e3069283');
    expect(result.checksums.CRC64NVME?.toString('hex')).toBe('ae8b14860a799888');
    expect(result.checksums.SHA1?.toString('hex')).toBe('f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    expect(result.checksums.SHA256?.toString('hex')).toBe(result.sha256?.toString('hex'));
  });

  it('agrees with the AWS SDK checksums, as base64, on a multi-part body', async () => {
    const parts = [Buffer.alloc(70_000, 'a'), Buffer.from('tail ✓')];
    const hasher = new IntegrityHasher({ checksumAlgorithms: ['CRC32', 'CRC32C'] });
    await pipeThrough(parts, hasher);
    const sdk32 = new Crc32();
    const sdk32c = new Crc32c();
    for (const part of parts) {
      sdk32.update(part);
      sdk32c.update(part);
    }
    expect(hasher.result().checksums.CRC32?.toString('base64')).toBe(Buffer.from(await sdk32.digest()).toString('base64'));
    expect(hasher.result().checksums.CRC32C?.toString('base64')).toBe(Buffer.from(await sdk32c.digest()).toString('base64'));
  });

  it('computes only what was asked for', async () => {
    const hasher = new IntegrityHasher({ checksumAlgorithms: ['CRC32'] });
    await pipeThrough([check], hasher);
    expect(Object.keys(hasher.result().checksums)).toEqual(['CRC32']);
    expect(hasher.result().sha256).toBeUndefined();
  });

  it('refuses to report before the stream has finished', () => {
    expect(() => new IntegrityHasher().result()).toThrow(/before the stream finished/);
  });
});
