import { CairnError, MetadataRpc, type CompleteUploadReply, type InitiateUploadReply, type ObjectVersionView } from '@cairn/protocol';
import { maxBodyBytes, NatsConnectionManager } from '@cairn/messaging';
import { runPool } from '@cairn/service-kit';
import { testNamespace } from '@cairn/testing';
import { md5, sha256 } from '../testing/rpc-test-helpers';
import { twoInstancesWithBucket } from '../testing/two-instances';

const CHUNK_BYTES = 8 * 1024 * 1024;
const IN_FLIGHT = 32;

/**
 * Uploads of S3's 10,000 parts through two metadata instances (real JetStream and Postgres): each
 * part costs the same from the first to the last (the upload's state is folded once and kept, not
 * read and folded again per part), and a completion whose events would not fit in one NATS message
 * is refused with EntityTooLarge before anything is appended.
 */
describe('multipart uploads of many parts (real JetStream and Postgres)', () => {
  const two = twoInstancesWithBucket(testNamespace(), 'huge');
  const { call } = two;

  const etag = (key: string, partNumber: number) => md5(`${key} p${partNumber}`);
  const chunksOf = (key: string, partNumber: number, chunks: number) =>
    Array.from({ length: chunks }, (_, i) => ({ hash: sha256(`${key} p${partNumber} c${i}`), offsetBytes: i * CHUNK_BYTES, sizeBytes: CHUNK_BYTES }));
  const partList = (key: string, parts: number) => Array.from({ length: parts }, (_, i) => ({ partNumber: i + 1, etag: `"${etag(key, i + 1)}"` }));

  /** Uploads parts 1..parts of `chunks` chunks each; answers each part's finish time (ms), by part number. */
  async function uploadParts(key: string, parts: number, chunks: number): Promise<{ uploadId: string; finishedAt: number[] }> {
    const { uploadId } = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'huge', key, owner: 'alice' });
    const finishedAt: number[] = [];
    await runPool(Array.from({ length: parts }, (_, i) => i + 1), IN_FLIGHT, undefined, async (partNumber) => {
      await call(MetadataRpc.uploadPart, {
        bucket: 'huge',
        uploadId,
        partNumber,
        etag: etag(key, partNumber),
        sizeBytes: chunks * CHUNK_BYTES,
        chunks: chunksOf(key, partNumber, chunks),
      });
      finishedAt.push(performance.now());
    });
    return { uploadId, finishedAt };
  }

  async function refusal(work: Promise<unknown>): Promise<CairnError> {
    try {
      await work;
    } catch (error) {
      if (error instanceof CairnError) return error;
      throw error;
    }
    throw new Error('the call succeeded');
  }

  it('takes 10,000 parts at a flat cost per part, and completes them when the server takes messages that large', async () => {
    const { uploadId, finishedAt } = await uploadParts('k10000', 10_000, 1);
    // Wall time per part over the first and the last 1,000 parts. With the history read and folded
    // per part, part 9,000 took ~100x part 100 (one in flight: 2.5 -> 240-300 ms) and at 32 in
    // flight an RPC timed out past ~5,000 parts.
    const first = (finishedAt[1_000] - finishedAt[0]) / 1_000;
    const last = (finishedAt[9_999] - finishedAt[8_999]) / 1_000;
    console.log(`10,000 parts: ${first.toFixed(2)} ms per part over the first 1,000, ${last.toFixed(2)} ms over the last 1,000`);
    expect(last).toBeLessThan(3 * first + 1);

    const fits = maxBodyBytes(await two.a.app.get(NatsConnectionManager).connection()) >= 4 * 1024 * 1024;
    const completing = call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'huge', uploadId, parts: partList('k10000', 10_000) });
    // 10,000 chunk references take ~1.9 MB in one event: past nats-server's default max_payload
    // (1 MB), within the 8 MB that Cairn's own nats-server configurations set.
    const parts = fits ? 10_000 : 1_000;
    if (!fits) {
      expect((await refusal(completing)).code).toBe('EntityTooLarge');
      await call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'huge', uploadId, parts: partList('k10000', parts) });
    } else {
      await completing;
    }
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'huge', key: 'k10000' });
    expect(head.sizeBytes).toBe(parts * CHUNK_BYTES);
    expect(head.etag).toMatch(new RegExp(`^"?[0-9a-f]{32}-${parts}"?$`));
  }, 90_000);

  it('refuses a completion whose events would not fit in one NATS message with EntityTooLarge, appending nothing', async () => {
    // 200 parts of 500 chunks (4,000 MiB each): 100,000 chunk references, ~11 MB of them in one event.
    const { uploadId } = await uploadParts('too-large', 200, 500);
    const refused = await refusal(call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'huge', uploadId, parts: partList('too-large', 200) }));
    expect(refused.code).toBe('EntityTooLarge');
    expect(refused.message).toMatch(/100000 chunks .* this server takes at most \d+ .*an object of at most about [\d.]+ GiB in chunks of 8\.0 MiB/);
    // Nothing was appended: the upload is still open, and an object of fewer of its parts completes.
    const reply = await call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'huge', uploadId, parts: partList('too-large', 10) });
    expect(reply.sizeBytes).toBe(10 * 500 * CHUNK_BYTES);
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'huge', key: 'too-large' });
    expect(head.chunks).toHaveLength(5_000);
  }, 60_000);
});
