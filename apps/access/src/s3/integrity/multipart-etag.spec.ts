import { createHash } from 'node:crypto';
import { compositeChecksum, md5FromEtag, multipartEtag, singlePartEtag } from './multipart-etag';

const md5 = (text: string) => createHash('md5').update(text).digest();

describe('ETags', () => {
  it('single part: the hex MD5', () => {
    expect(singlePartEtag(md5(''))).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });

  it('multipart: MD5 of the binary part MD5s with the part count, not of the hex strings', () => {
    const parts = [md5('part one'), md5('part two'), md5('part three')];
    const expected = createHash('md5').update(Buffer.concat(parts)).digest('hex');
    expect(multipartEtag(parts)).toBe(`${expected}-3`);
    expect(multipartEtag(parts)).not.toBe(`${createHash('md5').update(parts.map((p) => p.toString('hex')).join('')).digest('hex')}-3`);
  });

  it('reads part ETags back, quoted or not, and refuses anything else', () => {
    expect(md5FromEtag('"d41d8cd98f00b204e9800998ecf8427e"')?.equals(md5(''))).toBe(true);
    expect(md5FromEtag('d41d8cd98f00b204e9800998ecf8427e')?.equals(md5(''))).toBe(true);
    expect(md5FromEtag('"abc-2"')).toBeUndefined();
  });

  it('composite checksum: checksum of the concatenated part checksums, base64, with the count', () => {
    const parts = [Buffer.from('cbf43926', 'hex'), Buffer.from('0d4a1185', 'hex')];
    const crc = createHash('sha256').update(Buffer.concat(parts)).digest('base64');
    expect(compositeChecksum('SHA256', parts)).toBe(`${crc}-2`);
    expect(compositeChecksum('CRC32', [Buffer.from('123456789')])).toBe(`${Buffer.from('cbf43926', 'hex').toString('base64')}-1`);
  });
});
