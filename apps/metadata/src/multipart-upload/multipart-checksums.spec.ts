import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { compositeChecksums, multipartChecksums } from './multipart-checksums';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

describe('compositeChecksums', () => {
  it("is the algorithm over the parts' raw checksums, base64, with the part count", () => {
    const parts = [sha256('one'), sha256('two')];
    const expected = `${createHash('sha256').update(Buffer.concat(parts)).digest('base64')}-2`;
    expect(compositeChecksums(parts.map((p) => ({ sha256: p.toString('base64') })))).toEqual({ sha256: expected });
  });

  it('gives only the algorithms every part has, and nothing for CRC64NVME (full-object only in S3)', () => {
    const result = compositeChecksums([
      { crc32: 'AAAAAA==', crc32c: 'AAAAAQ==', crc64nvme: 'AAAAAAAAAAA=' },
      { crc32: 'AAAAAg==' },
    ]);
    expect(Object.keys(result)).toEqual(['crc32']);
    expect(result.crc32).toMatch(/^[A-Za-z0-9+/]{6}==-2$/);
    expect(compositeChecksums([])).toEqual({});
  });

  it('gives an upload made for a FULL_OBJECT CRC the CRC of the whole object, from its parts alone', () => {
    const bodies = [Buffer.alloc(1000, 1), Buffer.from('two'), Buffer.alloc(3, 9)];
    const crc = (bytes: Buffer) => {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(crc32(bytes) >>> 0);
      return value.toString('base64');
    };
    const parts = bodies.map((b) => ({ sizeBytes: b.length, checksums: { crc32: crc(b), sha256: 'x' } }));
    expect(multipartChecksums({ algorithm: 'crc32', type: 'FULL_OBJECT' }, parts)).toEqual({ crc32: crc(Buffer.concat(bodies)) });
    expect(multipartChecksums({ algorithm: 'crc32', type: 'FULL_OBJECT' }, [...parts, { sizeBytes: 1, checksums: {} }])).toEqual({});
    expect(multipartChecksums(undefined, parts.map((p) => ({ ...p, checksums: { crc32: p.checksums.crc32 } }))).crc32).toMatch(/-3$/);
  });
});
