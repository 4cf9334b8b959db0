import { crc32c as referenceCrc32c } from '@aws-crypto/crc32c';
import { Crc32c } from './crc32c';

const hex = (data: Uint8Array): string => new Crc32c().update(data).digest().toString('hex');

describe('Crc32c', () => {
  it('gives the CRC catalogue check value for "123456789"', () => {
    expect(hex(Buffer.from('123456789'))).toBe('e3069283');
  });

  it('gives the RFC 3720 (iSCSI) test vectors', () => {
    expect(hex(Buffer.alloc(32, 0))).toBe('8a9136aa');
    expect(hex(Buffer.alloc(32, 0xff))).toBe('62a8ab43');
    expect(hex(Buffer.from(Array.from({ length: 32 }, (_v, i) => i)))).toBe('46dd794e');
  });

  it('matches @aws-crypto/crc32c on every length around the slicing boundary, however it is split', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_v, i) => (i * 37 + 11) & 0xff));
    for (const length of [0, 1, 7, 8, 9, 16, 17, 255, 300]) {
      const expected = (referenceCrc32c(data.subarray(0, length)) >>> 0).toString(16).padStart(8, '0');
      expect(hex(data.subarray(0, length))).toBe(expected);
      const split = new Crc32c().update(data.subarray(0, length >> 1)).update(data.subarray(length >> 1, length));
      expect(split.digest().toString('hex')).toBe(expected);
    }
  });
});
