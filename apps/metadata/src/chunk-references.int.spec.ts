import { DEFAULT_REPLICATION_FACTOR, METADATA_SERVICE, MetadataRpc } from '@cairn/protocol';
import type {
  ChunkRef,
  ChunkReference,
  CommandReply,
  InitiateUploadReply,
  ListChunkReferencesReply,
  ListChunkReferencesRequest,
  PutObjectReply,
  StorageClass,
} from '@cairn/protocol';
import { RpcClient } from '@cairn/messaging';
import type { RunningService } from '@cairn/service-kit';
import { testNamespace } from '@cairn/testing';
import type { MetadataConfig } from './metadata.config';
import { codeOf, md5, RPC_TIMEOUT_MS, sha256 } from './testing/rpc-test-helpers';
import { bootTwoInstances, closeTwoInstances } from './testing/two-instances';

const ENV = { CAIRN_ROOT_ACCESS_KEY: 'CAIRNTESTROOTKEY0003', CAIRN_ROOT_SECRET_KEY: 'test-root-secret-key-0000000000' };
const PART_SIZE_BYTES = 5 * 1024 * 1024;
const RACE_ROUNDS = 15;
const RACE_PUTS_PER_ROUND = 4;

/** Chunks of the given contents, back to back. */
function chunksOf(contents: readonly string[], sizeBytesOf: (content: string) => number = (c) => Buffer.byteLength(c)): ChunkRef[] {
  let offsetBytes = 0;
  return contents.map((content) => {
    const chunk = { hash: sha256(content), offsetBytes, sizeBytes: sizeBytesOf(content) };
    offsetBytes += chunk.sizeBytes;
    return chunk;
  });
}

function put(bucket: string, key: string, contents: readonly string[], storageClass?: StorageClass) {
  const chunks = chunksOf(contents);
  return {
    bucket,
    key,
    sizeBytes: chunks.reduce((sum, c) => sum + c.sizeBytes, 0),
    etag: md5(contents.join('')),
    chunks,
    ...(storageClass ? { storageClass } : {}),
  };
}

const ref = (content: string, replicationFactor: number, sizeBytes = Buffer.byteLength(content)): ChunkReference => ({
  hash: sha256(content),
  sizeBytes,
  replicationFactor,
});
const byHash = (refs: readonly ChunkReference[]) => [...refs].sort((x, y) => (x.hash < y.hash ? -1 : x.hash > y.hash ? 1 : 0));

describe('chunk references for GC and repair (metadata over real JetStream and Postgres)', () => {
  const ns = testNamespace();
  let a: RunningService<MetadataConfig>;
  let b: RunningService<MetadataConfig>;
  let rpcA: RpcClient;
  let rpcB: RpcClient;
  const call = <T>(pattern: string, payload: unknown, rpc = rpcA) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
  const references = (request: ListChunkReferencesRequest = {}, rpc = rpcA) => call<ListChunkReferencesReply>(MetadataRpc.listChunkReferences, request, rpc);

  /** Every page, `limit` at a time, checked to be ascending, contiguous and at or past `minSequence`. */
  async function allReferences(limit: number, minSequence = 0): Promise<ChunkReference[]> {
    const all: ChunkReference[] = [];
    let after = '';
    for (;;) {
      const page = await references({ after, limit });
      expect(page.asOfSequence).toBeGreaterThanOrEqual(minSequence);
      // The services here run without CAIRN_REPLICATION_FACTOR: the default, which the sweep compares its own with.
      expect(page.regionReplicationFactor).toBe(DEFAULT_REPLICATION_FACTOR);
      expect(page.chunks.length).toBeLessThanOrEqual(limit);
      all.push(...page.chunks);
      if (page.nextAfter === null) break;
      expect(page.chunks).toHaveLength(limit);
      expect(page.nextAfter).toBe(page.chunks.at(-1)?.hash);
      after = page.nextAfter;
    }
    expect(all).toEqual(byHash(all));
    expect(new Set(all.map((c) => c.hash)).size).toBe(all.length);
    return all;
  }

  beforeAll(async () => {
    [a, b] = await bootTwoInstances(ns, ENV);
    rpcA = a.app.get(RpcClient);
    rpcB = b.app.get(RpcClient);
  }, 60_000);

  afterAll(() => closeTwoInstances(ns, a, b), 60_000);

  it('answers every stored chunk once, in hash order, with the highest replication factor naming it, as deletes, completes and aborts change them', async () => {
    expect(await references()).toMatchObject({ chunks: [], nextAfter: null });

    await call(MetadataRpc.createBucket, { bucket: 'gc-plain', owner: 'alice' });
    await call(MetadataRpc.createBucket, { bucket: 'gc-ver', owner: 'alice', versioningEnabled: true });
    // 'shared' is in a and b; 'shared-r' in a REDUCED object and a STANDARD one; 'tiny' only inline.
    await call(MetadataRpc.putObject, put('gc-plain', 'a', ['a-1', 'a-2', 'shared']));
    await call(MetadataRpc.putObject, put('gc-plain', 'b', ['b-1', 'shared']));
    const tiny = Buffer.from('tiny body');
    await call(MetadataRpc.putObject, {
      bucket: 'gc-plain',
      key: 'tiny',
      sizeBytes: tiny.length,
      etag: md5('tiny body'),
      chunks: [{ hash: sha256('tiny body'), offsetBytes: 0, sizeBytes: tiny.length, inline: tiny.toString('base64') }],
    });
    await call(MetadataRpc.putObject, put('gc-plain', 'r', ['r-1', 'shared-r'], 'REDUCED_REDUNDANCY'));
    await call(MetadataRpc.putObject, put('gc-plain', 'r-standard', ['shared-r']));
    // Versions: both stay referenced under a delete marker.
    const v1 = await call<PutObjectReply>(MetadataRpc.putObject, put('gc-ver', 'doc', ['doc-v1']));
    await call(MetadataRpc.putObject, put('gc-ver', 'doc', ['doc-v2']));
    await call(MetadataRpc.deleteObject, { bucket: 'gc-ver', key: 'doc' });
    // Two open uploads: a REDUCED one whose second part names 'shared' too, and a STANDARD one.
    const big = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'gc-plain', key: 'big', owner: 'alice', storageClass: 'REDUCED_REDUNDANCY' });
    const other = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'gc-plain', key: 'other', owner: 'alice' });
    // Part chunks are 5 MiB (as a part must be), except 'shared', which is the same chunk as a's.
    const part = (uploadId: string, partNumber: number, contents: string[]) => {
      const chunks = chunksOf(contents, (c) => (c === 'shared' ? Buffer.byteLength(c) : PART_SIZE_BYTES));
      const sizeBytes = chunks.reduce((sum, c) => sum + c.sizeBytes, 0);
      return call<CommandReply>(MetadataRpc.uploadPart, { bucket: 'gc-plain', uploadId, partNumber, etag: md5(contents.join('')), sizeBytes, chunks });
    };
    await part(big.uploadId, 1, ['big-1']);
    await part(big.uploadId, 2, ['big-2', 'shared']);
    const lastWrite = await part(other.uploadId, 1, ['other-1']);

    const everything = byHash([
      ref('a-1', 3),
      ref('a-2', 3),
      ref('shared', 3),
      ref('b-1', 3),
      ref('r-1', 2),
      ref('shared-r', 3),
      ref('doc-v1', 3),
      ref('doc-v2', 3),
      ref('big-1', 2, PART_SIZE_BYTES),
      ref('big-2', 2, PART_SIZE_BYTES),
      ref('other-1', 3, PART_SIZE_BYTES),
    ]);
    for (const limit of [1, 2, 3, 11, 10_000]) expect(await allReferences(limit, lastWrite.sequence)).toEqual(everything);
    // A bounded range: only what lies strictly between the bounds.
    const [low, , , , high] = everything;
    const between = await references({ after: low.hash, before: high.hash });
    expect(between).toMatchObject({ chunks: everything.slice(1, 4), nextAfter: null });
    // A hash prefix as the upper bound stops the range below every hash that starts with it.
    const prefix = high.hash.slice(0, 1);
    expect((await references({ before: prefix })).chunks).toEqual(everything.filter((c) => c.hash < prefix));

    // Removing a version for good (a versioned key's, then an unversioned key's null version) drops
    // the chunks nothing else names; the shared one stays.
    await call(MetadataRpc.deleteObject, { bucket: 'gc-ver', key: 'doc', versionId: v1.versionId });
    await call(MetadataRpc.deleteObject, { bucket: 'gc-plain', key: 'a', versionId: 'null' });
    let expected = everything.filter((c) => ![sha256('doc-v1'), sha256('a-1'), sha256('a-2')].includes(c.hash));
    expect(await allReferences(4)).toEqual(expected);

    // Completing moves the parts' chunks to the version, with the upload's class; aborting drops them.
    await call(MetadataRpc.completeUpload, {
      bucket: 'gc-plain',
      uploadId: big.uploadId,
      parts: [
        { partNumber: 1, etag: md5('big-1') },
        { partNumber: 2, etag: md5('big-2shared') },
      ],
    });
    expect(await allReferences(4)).toEqual(expected);
    await call(MetadataRpc.abortUpload, { bucket: 'gc-plain', uploadId: other.uploadId });
    expected = expected.filter((c) => c.hash !== sha256('other-1'));
    expect(await allReferences(4)).toEqual(expected);

    // With b gone, only the REDUCED version names 'shared': two copies are enough now.
    await call(MetadataRpc.deleteObject, { bucket: 'gc-plain', key: 'b' });
    expected = byHash([...expected.filter((c) => c.hash !== sha256('b-1') && c.hash !== sha256('shared')), ref('shared', 2)]);
    expect(await allReferences(10_000)).toEqual(expected);
  }, 60_000);

  it('always includes a reference whose write was acknowledged just before the request, on either instance', async () => {
    await call(MetadataRpc.createBucket, { bucket: 'gc-race', owner: 'alice' });
    for (let round = 0; round < RACE_ROUNDS; round++) {
      // Each put is answered by whichever instance NATS picks, and so is each query; none waits between.
      const written = await Promise.all(
        Array.from({ length: RACE_PUTS_PER_ROUND }, (_, i) => call<PutObjectReply>(MetadataRpc.putObject, put('gc-race', `k${round}-${i}`, [`race ${round} ${i}`]), i % 2 ? rpcB : rpcA)),
      );
      const page = await references({ limit: 10_000 }, round % 2 ? rpcA : rpcB);
      expect(page.asOfSequence).toBeGreaterThanOrEqual(Math.max(...written.map((w) => w.sequence)));
      const hashes = new Set(page.chunks.map((c) => c.hash));
      for (let i = 0; i < RACE_PUTS_PER_ROUND; i++) expect(hashes.has(sha256(`race ${round} ${i}`))).toBe(true);
    }
  }, 60_000);

  it('answers InvalidArgument to a malformed request', async () => {
    for (const request of [{ limit: 0 }, { limit: 10_001 }, { limit: 2.5 }, { after: 'ABC' }, { after: 'a'.repeat(63) }, { before: '' }, { before: 'xyz' }, { from: '' }, 'text', [1]]) {
      expect(await codeOf(call(MetadataRpc.listChunkReferences, request))).toBe('InvalidArgument');
    }
    expect(await codeOf(call(MetadataRpc.listChunkReferences, null))).toBe('OK');
  });
});
