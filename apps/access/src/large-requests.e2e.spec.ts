import { createHash, randomBytes } from 'node:crypto';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataLimits, MetadataRpc, type ObjectVersionView } from '@cairn/protocol';
import { runPool } from '@cairn/service-kit';
import { startNatsServer, type NatsServerProcess } from '@cairn/testing';
import { CHECKSUM_ALGORITHMS, createDigest } from './s3/integrity/checksum-algorithms';
import { startS3Stack, type S3Stack } from './testing/s3-stack.e2e-helper';

/** nats-server's default max_payload: what a region whose nats-server sets none takes in one message. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
const PART_BYTES = MetadataLimits.partSizeMinBytes;
/**
 * Parts, each naming all five S3 checksums in the completion: ~240 bytes of request per part
 * against ~200 of event (its chunk and size), so the completion request passes 1 MiB (~1.13 MB)
 * while its events still fit one message (~0.96 MB).
 */
const PARTS = 4_700;
const IN_FLIGHT = 32;

/**
 * A request from the gateway to metadata larger than one NATS message, on a nats-server with the
 * default max_payload: a CompleteMultipartUpload of thousands of parts carrying checksums. The
 * gateway holds the request, metadata fetches it in pieces, the object completes and reads back.
 */
describe('gateway requests to metadata larger than a NATS message (own nats-server, default max_payload)', () => {
  let nats: NatsServerProcess;
  let stack: S3Stack;
  let s3: S3Client;

  beforeAll(async () => {
    nats = await startNatsServer();
    stack = await startS3Stack({ env: { CAIRN_NATS_URL: nats.url } });
    // One chunk per part (as in production, 8 MiB chunks): the completion's events carry one chunk reference per part.
    s3 = (await stack.startGateway({ CAIRN_CHUNK_SIZE_BYTES: String(8 * 1024 * 1024) })).client();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await nats?.stop();
  }, 60_000);

  it(`completes an upload of ${PARTS} parts whose CompleteMultipartUpload request is larger than max_payload, and the object reads back`, async () => {
    const rpc = stack.access.app.get(RpcClient);
    const bucket = 'large-completion';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // The part's bytes go through the gateway to the storage nodes once (as an object); every part names that chunk.
    const bytes = randomBytes(PART_BYTES);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'seed', Body: bytes }));
    const seed = await rpc.request<ObjectVersionView>(METADATA_SERVICE, MetadataRpc.headObject, { bucket, key: 'seed' });
    expect(seed.chunks).toHaveLength(1);
    const etag = createHash('md5').update(bytes).digest('hex');
    const checksums = Object.fromEntries(
      CHECKSUM_ALGORITHMS.map((algorithm) => {
        const digest = createDigest(algorithm);
        digest.update(bytes);
        return [algorithm.toLowerCase(), digest.digest().toString('base64')];
      }),
    );

    const { UploadId: uploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    // Registering thousands of 5 MiB parts through the gateway would move ~23 GB; metadata takes them as the gateway sends them.
    await runPool(Array.from({ length: PARTS }, (_, i) => i + 1), IN_FLIGHT, undefined, async (partNumber) => {
      await rpc.request(METADATA_SERVICE, MetadataRpc.uploadPart, { bucket, uploadId, partNumber, etag, sizeBytes: PART_BYTES, checksums, chunks: seed.chunks });
    });

    const parts = Array.from({ length: PARTS }, (_, i) => ({
      PartNumber: i + 1,
      ETag: `"${etag}"`,
      ChecksumCRC32: checksums['crc32'],
      ChecksumCRC32C: checksums['crc32c'],
      ChecksumCRC64NVME: checksums['crc64nvme'],
      ChecksumSHA1: checksums['sha1'],
      ChecksumSHA256: checksums['sha256'],
    }));
    // What the gateway sends metadata for it (multipart.handlers.ts) is more than one message.
    const request = { bucket, uploadId, parts: parts.map((p) => ({ partNumber: p.PartNumber, etag: p.ETag, checksums })) };
    expect(Buffer.byteLength(JSON.stringify(request))).toBeGreaterThan(DEFAULT_MAX_PAYLOAD_BYTES);

    const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    const md5OfMd5s = createHash('md5').update(Buffer.concat(Array.from({ length: PARTS }, () => Buffer.from(etag, 'hex')))).digest('hex');
    expect(completed.ETag).toBe(`"${md5OfMd5s}-${PARTS}"`);

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }));
    expect(head.ContentLength).toBe(PARTS * PART_BYTES);
    expect(head.ETag).toBe(`"${md5OfMd5s}-${PARTS}"`);
    // The first bytes, across the boundary of two parts, and the last bytes.
    const range = async (start: number, end: number) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big', Range: `bytes=${start}-${end}` }))).Body!.transformToByteArray());
    expect((await range(0, 4_095)).equals(bytes.subarray(0, 4_096))).toBe(true);
    const boundary = 1_234 * PART_BYTES;
    expect((await range(boundary - 2_048, boundary + 2_047)).equals(Buffer.concat([bytes.subarray(PART_BYTES - 2_048), bytes.subarray(0, 2_048)]))).toBe(true);
    const size = PARTS * PART_BYTES;
    expect((await range(size - 4_096, size - 1)).equals(bytes.subarray(PART_BYTES - 4_096))).toBe(true);
  }, 240_000);
});
