import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { decryptChunkBytes, decryptingStream, encryptChunk } from './chunk-cipher';

describe('chunk cipher (AES-256-CTR per chunk)', () => {
  const key = randomBytes(32);
  const plain = randomBytes(100_003);

  it('round-trips a whole chunk, and its ciphertext is not the plaintext', () => {
    const sealed = encryptChunk(key, plain);
    expect(sealed.bytes.length).toBe(plain.length);
    expect(sealed.bytes.equals(plain)).toBe(false);
    expect(decryptChunkBytes(key, sealed.iv, 0, sealed.bytes).equals(plain)).toBe(true);
  });

  it.each([
    [0, 16],
    [1, 2],
    [15, 17],
    [16, 48],
    [4097, 99_999],
    [100_002, 100_003],
  ])('decrypts the range [%d, %d) alone', (from, to) => {
    const sealed = encryptChunk(key, plain);
    expect(decryptChunkBytes(key, sealed.iv, from, sealed.bytes.subarray(from, to)).equals(plain.subarray(from, to))).toBe(true);
  });

  it('decrypts a range as a stream in uneven pieces', async () => {
    const sealed = encryptChunk(key, plain);
    const from = 333;
    const pieces = [sealed.bytes.subarray(from, 1000), sealed.bytes.subarray(1000, 1001), sealed.bytes.subarray(1001)];
    const out: Buffer[] = [];
    for await (const piece of Readable.from(pieces).pipe(decryptingStream(key, sealed.iv, from))) out.push(piece as Buffer);
    expect(Buffer.concat(out).equals(plain.subarray(from))).toBe(true);
  });

  it('carries the counter across bytes of the IV (an IV of all 0xff wraps)', () => {
    const iv = Buffer.alloc(16, 0xff).toString('base64');
    // Encrypting under this IV directly and decrypting a later range must agree.
    const { createCipheriv } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.from(iv, 'base64'));
    const bytes = Buffer.concat([cipher.update(plain.subarray(0, 4096)), cipher.final()]);
    expect(decryptChunkBytes(key, iv, 1000, bytes.subarray(1000)).equals(plain.subarray(1000, 4096))).toBe(true);
  });

  it('gives every chunk its own IV', () => {
    expect(encryptChunk(key, plain).iv).not.toBe(encryptChunk(key, plain).iv);
  });
});
