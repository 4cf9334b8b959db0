import { createHash, randomBytes } from 'node:crypto';
import { MetadataErrorCodes } from '@cairn/protocol';
import { isPaddedBase64, refuseNul, validateChunks } from './validation';

/** The rule before the native round trip: length a multiple of 4, the standard alphabet, at most two '=' at the end. */
const byPattern = (text: string) => text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
const hashOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('isPaddedBase64', () => {
  it('accepts what Node writes, of every length up to 64 bytes and a 4 KiB body', () => {
    for (let n = 0; n <= 64; n++) expect(isPaddedBase64(randomBytes(n).toString('base64'))).toBe(true);
    expect(isPaddedBase64(randomBytes(4096).toString('base64'))).toBe(true);
  });

  it('answers as the pattern does where the round trip differs (non-zero unused bits, misplaced or extra padding)', () => {
    const cases = ['aGVsbG9=', 'AB==', 'AAB=', 'A===', '====', 'AA=A', '=AAA', 'AAAA====', 'aGVsbG8', 'aGVsbG8*', 'aGVs bG8=', 'aGVsbG8\n', 'a-_A', 'aGVsbG8=\u00e9AAA', 'é==='];
    for (const text of cases) expect([text, isPaddedBase64(text)]).toEqual([text, byPattern(text)]);
  });

  it('matches the pattern on random strings over the alphabet, padding, the URL-safe characters and whitespace', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n';
    const noise = randomBytes(20_000);
    let at = 0;
    for (let i = 0; i < 2_000; i++) {
      const length = noise[at++ % noise.length] % 13;
      let text = '';
      for (let j = 0; j < length; j++) text += alphabet[noise[at++ % noise.length] % alphabet.length];
      expect([text, isPaddedBase64(text)]).toEqual([text, byPattern(text)]);
    }
  });
});

describe('validateChunks with inline bytes', () => {
  const inlineChunk = (bytes: Buffer, inline: string) => [{ hash: hashOf(bytes), offsetBytes: 0, sizeBytes: bytes.length, inline }];

  it('keeps the rule: padded base64 of exactly the chunk size, unused bits not checked', () => {
    const hello = Buffer.from('hello');
    expect(() => validateChunks(inlineChunk(hello, 'aGVsbG8='), 5)).not.toThrow();
    // Same 5 bytes, the last character's unused bits set: accepted before, accepted now.
    expect(() => validateChunks(inlineChunk(hello, 'aGVsbG9='), 5)).not.toThrow();
    const body = randomBytes(4096);
    expect(() => validateChunks(inlineChunk(body, body.toString('base64')), 4096)).not.toThrow();
  });

  it.each([
    ['not base64', 'aGVsbG8*'],
    ['URL-safe base64', 'a-_sbG8='],
    ['too short', 'aGVsbA=='],
    ['too long', 'aGVsbG8hIQ=='],
    ['unpadded', 'aGVsbG8'],
  ])('refuses inline bytes that are %s, with the same error', (_what, inline) => {
    expect(() => validateChunks(inlineChunk(Buffer.from('hello'), inline), 5)).toThrow('inline chunk bytes are not base64 of 5 bytes');
  });
});

describe('refuseNul', () => {
  it('passes a command without NUL, whatever else its text holds', () => {
    expect(() => refuseNul({ bucket: 'b', tags: [{ key: 'k', value: '\u0001 é 😀' }], size: 5, nested: [[{ on: true, none: null }]] })).not.toThrow();
  });

  it.each([
    ['a tag value', { bucket: 'b', tags: [{ key: 'k', value: 'a\u0000' }] }],
    ['a name', { bucket: 'b', metadata: { 'x\u0000': 'v' } }],
    ['a policy statement deep inside', { bucket: 'b', policy: { Statement: [{ Condition: { StringEquals: { 'aws:x': ['\u0000'] } } }] } }],
    ['the command itself', '\u0000'],
  ])('refuses NUL in %s with InvalidArgument (Postgres stores it in neither text nor jsonb)', (_where, command) => {
    expect(() => refuseNul(command)).toThrow(expect.objectContaining({ code: MetadataErrorCodes.InvalidArgument }));
  });

  it('walks a command nested far deeper than the stack', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => refuseNul(deep)).toThrow(expect.objectContaining({ code: MetadataErrorCodes.InvalidArgument }));
  });
});
