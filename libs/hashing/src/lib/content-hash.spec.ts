import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ContentHasher, EMPTY_CONTENT_HASH, InvalidContentHashError, contentHashOf, contentHashOfStream, isContentHash, parseContentHash } from './content-hash';

describe('ContentHash', () => {
  it('accepts only 64 lowercase hex characters', () => {
    const good = createHash('sha256').update('x').digest('hex');
    expect(parseContentHash(good)).toBe(good);
    for (const bad of ['', good.toUpperCase(), good.slice(1), `${good}0`, `${good.slice(1)}g`, '../../etc/passwd']) {
      expect(isContentHash(bad)).toBe(false);
      expect(() => parseContentHash(bad)).toThrow(InvalidContentHashError);
    }
  });

  it('hashes incrementally the same as at once, however the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), async (parts) => {
        const whole = Buffer.concat(parts);
        const hasher = new ContentHasher();
        for (const p of parts) hasher.update(p);
        expect(hasher.digest()).toBe(contentHashOf(whole));
        expect(hasher.bytesHashed).toBe(whole.length);
        async function* gen() {
          yield* parts;
        }
        expect(await contentHashOfStream(gen())).toEqual({ hash: contentHashOf(whole), sizeBytes: whole.length });
      }),
    );
  });

  it('knows the hash of nothing and refuses to update after digest', () => {
    const h = new ContentHasher();
    expect(h.digest()).toBe(EMPTY_CONTENT_HASH);
    expect(h.digest()).toBe(EMPTY_CONTENT_HASH);
    expect(() => h.update(new Uint8Array(1))).toThrow();
    expect(EMPTY_CONTENT_HASH).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
