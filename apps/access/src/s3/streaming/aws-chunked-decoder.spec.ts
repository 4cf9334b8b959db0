import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Crc32 } from '@aws-sdk/checksums/crc';
import { getAwsChunkedEncodingStream } from '@smithy/core/serde';
import { S3Error } from '../errors/s3.errors';
import { InMemoryAccessKeyLookup } from '../auth/access-key-lookup.port';
import { deriveSigningKey } from '../auth/signing-key';
import { SigV4Verifier, type ChunkSigningContext } from '../auth/sigv4-verifier';
import { parseRequestTarget } from '../routing/request-target';
import { IntegrityHasher } from '../integrity/integrity-hasher';
import { parseDeclaredDigests, verifyDigests } from '../integrity/checksum-checker';
import { AwsChunkedDecoder, createAwsChunkedDecoder, type AwsChunkedMode } from './aws-chunked-decoder';
import { pipeThrough } from '../../testing/pipe-through';

interface Decoded {
  readonly data: Buffer;
  readonly trailers: ReadonlyMap<string, string>;
}

async function decode(parts: readonly Buffer[], mode: AwsChunkedMode, decodedContentLengthBytes: number): Promise<Decoded> {
  const decoder = new AwsChunkedDecoder({ mode, decodedContentLengthBytes });
  const data = await pipeThrough(parts, decoder);
  return { data, trailers: decoder.trailers() };
}

async function decodeError(parts: readonly Buffer[], mode: AwsChunkedMode, length: number): Promise<S3Error> {
  try {
    await decode(parts, mode, length);
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
}

function splitEvery(body: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) parts.push(body.subarray(i, i + size));
  return parts;
}

// --- An independent encoder written from the AWS spec, for bodies no SDK in node_modules builds. ---
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const hmacHex = (key: Buffer, text: string): string => createHmac('sha256', key).update(text).digest('hex');
const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function encodeSigned(chunks: readonly Buffer[], signing: ChunkSigningContext, trailers?: ReadonlyArray<readonly [string, string]>): Buffer {
  const pieces: Buffer[] = [];
  let previous = signing.seedSignature;
  for (const data of [...chunks, Buffer.alloc(0)]) {
    const signature = hmacHex(signing.signingKey, ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, signing.scope, previous, EMPTY_SHA256, sha256Hex(data)].join('\n'));
    previous = signature;
    pieces.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`));
    if (data.length > 0) pieces.push(data, Buffer.from('\r\n'));
  }
  if (trailers) {
    const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
    const trailerSignature = hmacHex(signing.signingKey, ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, signing.scope, previous, sha256Hex(canonical)].join('\n'));
    pieces.push(Buffer.from(trailers.map(([name, value]) => `${name}:${value}\r\n`).join('') + `x-amz-trailer-signature:${trailerSignature}\r\n`));
  }
  pieces.push(Buffer.from('\r\n'));
  return Buffer.concat(pieces);
}

const signing: ChunkSigningContext = {
  signingKey: deriveSigningKey('secret', '20260314', 'us-east-1', 's3'),
  amzDate: '20260314T150926Z',
  scope: '20260314/us-east-1/s3/aws4_request',
  seedSignature: 'a'.repeat(64),
};
const signedMode: AwsChunkedMode = { kind: 'signed', signing, trailer: false };
const signedTrailerMode: AwsChunkedMode = { kind: 'signed', signing, trailer: true };
const unsignedTrailerMode: AwsChunkedMode = { kind: 'unsigned-trailer' };

describe('AwsChunkedDecoder', () => {
  describe('the AWS documentation example (66560 bytes in 64 KiB chunks)', () => {
    const key = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', owner: 'o', isRoot: false };
    const headers = {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
        'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
        'Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'content-length': '66824',
    };
    const body = Buffer.concat([
      Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
      Buffer.alloc(1024, 'a'),
      Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
    ]);

    it('verifies the seed signature, then every chunk, and yields the payload', async () => {
      expect(body.length).toBe(66824);
      const auth = await new SigV4Verifier(new InMemoryAccessKeyLookup([key])).verify(
        { method: 'PUT', target: parseRequestTarget('/examplebucket/chunkObject.txt'), headers },
        Date.UTC(2013, 4, 24),
      );
      const decoder = createAwsChunkedDecoder(auth.payload, headers);
      expect(decoder).toBeDefined();
      const out: Buffer[] = [];
      await pipeline(Readable.from(splitEvery(body, 1000)), decoder as AwsChunkedDecoder, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
      expect(Buffer.concat(out).equals(Buffer.alloc(66560, 'a'))).toBe(true);
    });

    it('refuses the same body with one byte of data changed', async () => {
      const auth = await new SigV4Verifier(new InMemoryAccessKeyLookup([key])).verify(
        { method: 'PUT', target: parseRequestTarget('/examplebucket/chunkObject.txt'), headers },
        Date.UTC(2013, 4, 24),
      );
      if (auth.payload.kind !== 'streaming-signed') throw new Error('expected a streaming payload');
      const tampered = Buffer.from(body);
      tampered[1_000] = 'b'.charCodeAt(0);
      const error = await decodeError([tampered], { kind: 'signed', signing: auth.payload.signing, trailer: false }, 66560);
      expect(error.code).toBe('SignatureDoesNotMatch');
    });
  });

  describe('signed chunks', () => {
    const chunks = [Buffer.alloc(8192, 1), Buffer.from('second chunk'), Buffer.from('\r\n0;tricky\r\n')];
    const payload = Buffer.concat(chunks);
    const body = encodeSigned(chunks, signing);

    it.each([1, 2, 3, 7, 64, 100_000])('decodes the same whatever the read size (%i bytes)', async (size) => {
      const { data } = await decode(splitEvery(body, size), signedMode, payload.length);
      expect(data.equals(payload)).toBe(true);
    });

    it('refuses a bad signature on the last data chunk, and on the final empty chunk', async () => {
      const text = body.toString('latin1');
      const signatures = [...text.matchAll(/chunk-signature=([0-9a-f]{64})/g)].map((m) => m[1]);
      for (const signature of [signatures[2], signatures[3]]) {
        const forged = Buffer.from(text.replace(signature, signature.replace(/^./, (c) => (c === '0' ? '1' : '0'))), 'latin1');
        expect((await decodeError([forged], signedMode, payload.length)).code).toBe('SignatureDoesNotMatch');
      }
    });

    it('refuses chunks signed with another seed (chaining)', async () => {
      const other = encodeSigned(chunks, { ...signing, seedSignature: 'b'.repeat(64) });
      expect((await decodeError([other], signedMode, payload.length)).code).toBe('SignatureDoesNotMatch');
    });

    it('refuses validly signed chunks sent in another order', async () => {
      const text = encodeSigned([Buffer.from('first'), Buffer.from('second!')], signing).toString('latin1');
      const [headerA, headerB, finalHeader] = text.match(/[0-9a-f]+;chunk-signature=[0-9a-f]{64}\r\n/g) ?? [];
      const swapped = Buffer.from(`${headerB}second!\r\n${headerA}first\r\n${finalHeader}\r\n`, 'latin1');
      expect((await decodeError([swapped], signedMode, 12)).code).toBe('SignatureDoesNotMatch');
      const inOrder = Buffer.from(`${headerA}first\r\n${headerB}second!\r\n${finalHeader}\r\n`, 'latin1');
      expect((await decode([inOrder], signedMode, 12)).data.toString()).toBe('firstsecond!');
    });

    it('refuses a chunk without a signature', async () => {
      const body2 = Buffer.from(`5\r\nhello\r\n0\r\n\r\n`);
      expect((await decodeError([body2], signedMode, 5)).code).toBe('InvalidRequest');
    });

    it('accepts a body that ends right after the final chunk without the closing CRLF', async () => {
      const { data } = await decode([body.subarray(0, body.length - 2)], signedMode, payload.length);
      expect(data.equals(payload)).toBe(true);
    });

    it('errors (never hangs, never passes) when the body is cut at any point before the final chunk', async () => {
      const finalChunkStart = body.toString('latin1').lastIndexOf('0;chunk-signature=');
      for (let cut = 0; cut < finalChunkStart + 84; cut += cut < 200 ? 1 : 97) {
        const error = await decodeError([body.subarray(0, cut)], signedMode, payload.length);
        expect(['IncompleteBody', 'InvalidRequest', 'SignatureDoesNotMatch']).toContain(error.code);
      }
    });
  });

  describe('signed chunks with a signed trailer', () => {
    const chunks = [Buffer.from('hello '), Buffer.from('world')];
    const crc = Buffer.from('0d4a1185', 'hex').toString('base64');

    it('yields the trailing checksum after checking the trailer signature', async () => {
      const body = encodeSigned(chunks, signing, [['x-amz-checksum-crc32', crc]]);
      const { data, trailers } = await decode(splitEvery(body, 5), signedTrailerMode, 11);
      expect(data.toString()).toBe('hello world');
      expect(trailers.get('x-amz-checksum-crc32')).toBe(crc);
    });

    it('refuses a trailer whose value was changed, or whose signature is missing', async () => {
      const body = encodeSigned(chunks, signing, [['x-amz-checksum-crc32', crc]]);
      const changed = Buffer.from(body.toString('latin1').replace(crc, 'AAAAAA=='), 'latin1');
      expect((await decodeError([changed], signedTrailerMode, 11)).code).toBe('SignatureDoesNotMatch');
      const unsignedTrailer = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
      expect((await decodeError([unsignedTrailer], signedTrailerMode, 11)).code).toBe('SignatureDoesNotMatch');
    });

    it('refuses trailing headers in a body that declared no trailer', async () => {
      const body = encodeSigned(chunks, signing, [['x-amz-checksum-crc32', crc]]);
      expect((await decodeError([body], signedMode, 11)).code).toBe('InvalidRequest');
    });
  });

  describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER as the AWS SDK writes it', () => {
    async function sdkEncode(parts: readonly Buffer[]): Promise<Buffer> {
      const encoded = getAwsChunkedEncodingStream(Readable.from(parts), {
        base64Encoder: (bytes: Uint8Array) => Buffer.from(bytes).toString('base64'),
        bodyLengthChecker: (chunk: Buffer) => chunk.length,
        checksumAlgorithmFn: Crc32,
        checksumLocationName: 'x-amz-checksum-crc32',
        streamHasher: (Hash: typeof Crc32, stream: Readable) =>
          new Promise<Uint8Array>((resolve, reject) => {
            const hash = new Hash();
            stream.on('data', (chunk: Buffer) => hash.update(chunk));
            stream.on('end', () => resolve(hash.digest()));
            stream.on('error', reject);
          }),
      } as unknown as Parameters<typeof getAwsChunkedEncodingStream>[1]) as Readable;
      const out: Buffer[] = [];
      for await (const chunk of encoded) out.push(Buffer.from(chunk as Buffer | string));
      return Buffer.concat(out);
    }

    it('decodes the body and hands the trailing CRC32 to the checksum checker', async () => {
      const parts = [Buffer.alloc(70_000, 'x'), Buffer.from('✓ done')];
      const payload = Buffer.concat(parts);
      const body = await sdkEncode(parts);
      expect(body.toString('latin1')).toMatch(/0\r\nx-amz-checksum-crc32:[A-Za-z0-9+/=]{8}\r\n\r\n$/);

      const headers = { 'x-amz-decoded-content-length': String(payload.length), 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'CRC32' };
      const decoder = createAwsChunkedDecoder({ kind: 'streaming-unsigned-trailer' }, headers) as AwsChunkedDecoder;
      const declared = parseDeclaredDigests(headers);
      const hasher = new IntegrityHasher({ checksumAlgorithms: ['CRC32'] });
      const out: Buffer[] = [];
      await pipeline(Readable.from(splitEvery(body, 4096)), decoder, hasher, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
      expect(Buffer.concat(out).equals(payload)).toBe(true);
      expect(() => verifyDigests(declared, hasher.result(), decoder.trailers().get('x-amz-checksum-crc32'))).not.toThrow();
    });

    it('lets the checker refuse a trailing checksum that does not match the data', async () => {
      const body = (await sdkEncode([Buffer.from('abc')])).toString('latin1');
      const forged = Buffer.from(body.replace(/(x-amz-checksum-crc32:)[^\r]+/, '$1AAAAAA=='), 'latin1');
      const { trailers } = await decode([forged], unsignedTrailerMode, 3);
      const hasher = new IntegrityHasher({ checksumAlgorithms: ['CRC32'] });
      await pipeline(Readable.from([Buffer.from('abc')]), hasher, new Writable({ write: (_c, _e, cb) => cb() }));
      const declared = parseDeclaredDigests({ 'x-amz-trailer': 'x-amz-checksum-crc32' });
      expect(() => verifyDigests(declared, hasher.result(), trailers.get('x-amz-checksum-crc32'))).toThrow(expect.objectContaining({ code: 'BadDigest' }));
    });
  });

  describe('malformed bodies error and never hang', () => {
    const cases: ReadonlyArray<readonly [string, string, number, string]> = [
      ['bad hex size', 'zz\r\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['negative size', '-5\r\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['empty size', '\r\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['oversized chunk', 'fffffff\r\nhello', 5, 'InvalidRequest'],
      ['chunk beyond the declared length', 'a\r\nhelloworld\r\n0\r\n\r\n', 5, 'IncompleteBody'],
      ['size too many digits', '000000005\r\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['LF without CR in header', '5\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['missing CRLF after data', '5\r\nhelloX\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['size larger than data', '6\r\nhello\r\n0\r\n\r\n', 6, 'InvalidRequest'],
      ['truncated inside data', '5\r\nhel', 5, 'IncompleteBody'],
      ['truncated inside a header', '5\r\nhello\r\n0', 5, 'IncompleteBody'],
      ['no final chunk', '5\r\nhello\r\n', 5, 'IncompleteBody'],
      ['decoded length too small', '5\r\nhello\r\n0\r\n\r\n', 4, 'IncompleteBody'],
      ['decoded length too large', '5\r\nhello\r\n0\r\n\r\n', 6, 'IncompleteBody'],
      ['data after the end', '5\r\nhello\r\n0\r\n\r\nmore', 5, 'InvalidRequest'],
      ['extension in unsigned body', '5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n', 5, 'InvalidRequest'],
      ['trailer line without a name', '5\r\nhello\r\n0\r\n:value\r\n\r\n', 5, 'InvalidRequest'],
      ['trailer signature in an unsigned trailer', '5\r\nhello\r\n0\r\nx-amz-trailer-signature:00\r\n\r\n', 5, 'InvalidRequest'],
      ['trailer cut short', '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA', 5, 'IncompleteBody'],
    ];

    it.each(cases)('%s', async (_name, body, length, code) => {
      expect((await decodeError(splitEvery(Buffer.from(body, 'latin1'), 3), unsignedTrailerMode, length)).code).toBe(code);
    });

    it('refuses a header line longer than the cap without buffering it', async () => {
      const endless = Array.from({ length: 100 }, () => Buffer.alloc(1024, '1'));
      const error = await decodeError(endless, unsignedTrailerMode, 5);
      expect([error.code, error.message]).toEqual(['InvalidRequest', expect.stringMatching(/longer than 4096/)]);
    });

    it('refuses an endless trailer', async () => {
      const trailer = Array.from({ length: 40 }, (_v, i) => `x-amz-meta-${i}:v\r\n`).join('');
      expect((await decodeError([Buffer.from(`0\r\n${trailer}\r\n`)], unsignedTrailerMode, 0)).code).toBe('InvalidRequest');
    });

    it('decodes an empty body', async () => {
      const { data } = await decode([Buffer.from('0\r\n\r\n')], unsignedTrailerMode, 0);
      expect(data.length).toBe(0);
    });
  });

  describe('createAwsChunkedDecoder', () => {
    it('is undefined for plain payloads and requires x-amz-decoded-content-length for streaming ones', () => {
      expect(createAwsChunkedDecoder({ kind: 'unsigned' }, {})).toBeUndefined();
      expect(createAwsChunkedDecoder({ kind: 'sha256', sha256Hex: EMPTY_SHA256 }, {})).toBeUndefined();
      expect(() => createAwsChunkedDecoder({ kind: 'streaming-unsigned-trailer' }, {})).toThrow(expect.objectContaining({ code: 'MissingContentLength' }));
      expect(() => createAwsChunkedDecoder({ kind: 'streaming-unsigned-trailer' }, { 'x-amz-decoded-content-length': '-1' })).toThrow(
        expect.objectContaining({ code: 'MissingContentLength' }),
      );
    });
  });
});
