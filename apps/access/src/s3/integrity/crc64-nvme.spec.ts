import { Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/checksums/crc';
import { Crc64Nvme } from './crc64-nvme';

const hex = (data: Uint8Array): string => new Crc64Nvme().update(data).digest().toString('hex');

describe('Crc64Nvme', () => {
  it('gives the CRC catalogue check value for "123456789"', () => {
    expect(hex(Buffer.from('123456789'))).toBe('ae8b14860a799888');
  });

  it('gives the empty-input value (init xor final = 0)', () => {
    expect(hex(Buffer.alloc(0))).toBe('0000000000000000');
  });

  it('matches the AWS SDK on inputs of every length around the 8-byte slicing boundary', async () => {
    const data = Buffer.alloc(1_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    for (const length of [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1_000]) {
      const sdk = new SdkCrc64Nvme();
      sdk.update(data.subarray(0, length));
      expect(hex(data.subarray(0, length))).toBe(Buffer.from(await sdk.digest()).toString('hex'));
    }
  });

  it('is the same however the input is split', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog, again and again and again.');
    const whole = hex(data);
    for (const cut of [1, 3, 8, 13, data.length - 1]) {
      const crc = new Crc64Nvme().update(data.subarray(0, cut)).update(data.subarray(cut));
      expect(crc.digest().toString('hex')).toBe(whole);
    }
  });
});
