import { createHash } from 'node:crypto';
import { compositeChecksums } from './composite-checksums';

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
});
