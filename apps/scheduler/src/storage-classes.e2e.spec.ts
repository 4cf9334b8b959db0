import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { promises as fsp } from 'node:fs';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ringMembers } from '@cairn/chunk-client';
import { HashRing, type ContentHash } from '@cairn/hashing';
import { METADATA_SERVICE, MetadataRpc, type ChangeObjectStorageClassReply, type HeadObjectReply, type ListNodesReply } from '@cairn/protocol';
import { eventually } from '@cairn/testing';
import { expectedHolders } from './domain/chunk-reconciliation';
import { expectedSha256, generatedBody, sha256OfStream } from './testing/generated-body.e2e-helper';
import { chunkFileOf, sha256, TestRegion } from './testing/region.e2e-helper';

const NODES = ['storage-1', 'storage-2', 'storage-3'];
const MiB = 1024 * 1024;
const BUCKET = 'tiers';
/** Cold objects of 0 B to 100 MiB (the e2e chunk is 1 MiB: the largest is 100 stripes of 2+1 shards). */
const COLD_SIZES = [0, 1, 16 * 1024 + 1, MiB, 5 * MiB + 3, 100 * MiB];
const GC_GRACE_MS = 45_000;

/**
 * Storage classes against a whole region of real processes: S3's names on PUT, copy and multipart,
 * shown in HEAD and listings; erasure-coded objects (2+1 on three nodes) read back whole and by
 * range with a node stopped.
 */
describe('storage classes and the erasure-coded tier', () => {
  // The grace outlasts the longest upload here (100 MiB under a loaded machine): shards written early in it are unreferenced until it commits.
  const region = new TestRegion({ CAIRN_SWEEP_INTERVAL_MS: '2000', CAIRN_GC_GRACE_MS: String(GC_GRACE_MS), CAIRN_RESTORE_WINDOW: '0' });

  beforeAll(async () => {
    await region.start(NODES.length);
    await region.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await region.startScheduler('scheduler-1');
  }, 120_000);

  afterAll(() => region.stop(), 60_000);

  const put = (key: string, sizeBytes: number, storageClass?: string, seed = sizeBytes + key.length) =>
    region.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: generatedBody(seed, sizeBytes), ContentLength: sizeBytes, ...(storageClass ? { StorageClass: storageClass as StorageClass } : {}) }),
    );
  const getSha = async (key: string, range?: string) => {
    const res = await region.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...(range ? { Range: range } : {}) }));
    return (await sha256OfStream(res.Body as AsyncIterable<Uint8Array>)).sha256;
  };
  const head = (key: string) => region.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  const version = (key: string) => region.rpc.request<HeadObjectReply>(METADATA_SERVICE, MetadataRpc.headObject, { bucket: BUCKET, key });

  it('takes S3 class names on PUT and shows them in HEAD, GET and listings (none for STANDARD); refuses an unknown class with InvalidStorageClass', async () => {
    await put('std', 3 * MiB);
    await put('rrs', 3 * MiB, 'REDUCED_REDUNDANCY');
    await put('ia', 3 * MiB, 'STANDARD_IA');
    await put('gir', 3 * MiB, 'GLACIER_IR');
    expect((await head('std')).StorageClass).toBeUndefined();
    expect((await head('rrs')).StorageClass).toBe('REDUCED_REDUNDANCY');
    expect((await head('ia')).StorageClass).toBe('STANDARD_IA');
    const got = await region.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'gir' }));
    expect(got.StorageClass).toBe('GLACIER_IR');
    await got.Body!.transformToByteArray();

    const listed = await region.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(Object.fromEntries((listed.Contents ?? []).map((o) => [o.Key, o.StorageClass]))).toMatchObject({ std: 'STANDARD', rrs: 'REDUCED_REDUNDANCY', ia: 'STANDARD_IA', gir: 'GLACIER_IR' });
    const versions = await region.s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'ia' }));
    expect(versions.Versions?.[0]?.StorageClass).toBe('STANDARD_IA');

    // The erasure-coded versions are stripes of 2 data + 1 parity shards, on three distinct nodes.
    const ia = await version('ia');
    expect(ia.chunks.every((c) => c.erasure?.dataShards === 2 && c.erasure.parityShards === 1 && c.erasure.shards.length === 3)).toBe(true);
    expect((await version('rrs')).chunks.every((c) => c.erasure === undefined)).toBe(true);

    await expect(put('bad', 10, 'DEEP_FREEZE')).rejects.toMatchObject({ name: 'InvalidStorageClass', $metadata: { httpStatusCode: 400 } });
  }, 120_000);

  it('a copy onto itself changes the class (the chunks are re-stored), CreateMultipartUpload takes one, and the bucket default applies when none is named', async () => {
    await region.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'std', CopySource: `${BUCKET}/std`, StorageClass: 'STANDARD_IA' }));
    expect((await head('std')).StorageClass).toBe('STANDARD_IA');
    expect((await version('std')).chunks.every((c) => c.erasure !== undefined)).toBe(true);
    expect(await getSha('std')).toBe(expectedSha256(3 * MiB + 3, 3 * MiB));
    await region.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'std', CopySource: `${BUCKET}/std`, StorageClass: 'STANDARD' }));
    expect((await head('std')).StorageClass).toBeUndefined();
    expect((await version('std')).chunks.every((c) => c.erasure === undefined)).toBe(true);
    expect(await getSha('std')).toBe(expectedSha256(3 * MiB + 3, 3 * MiB));

    const { UploadId } = await region.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', StorageClass: 'GLACIER_IR' }));
    const parts = [];
    for (let n = 1; n <= 2; n++) {
      const sizeBytes = n === 1 ? 5 * MiB : MiB + 7;
      const part = await region.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: n, Body: generatedBody(n, sizeBytes), ContentLength: sizeBytes }));
      parts.push({ PartNumber: n, ETag: part.ETag });
    }
    await region.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, MultipartUpload: { Parts: parts } }));
    expect((await head('mpu')).StorageClass).toBe('GLACIER_IR');
    expect((await version('mpu')).chunks.every((c) => c.erasure !== undefined)).toBe(true);

    const res = await fetch(`${region.metadataUrl}/admin/buckets/${BUCKET}/storage-class`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${region.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ defaultStorageClass: 'STANDARD_IA' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { defaultStorageClass: string }).defaultStorageClass).toBe('STANDARD_IA');
    await put('defaulted', 2 * MiB);
    expect((await head('defaulted')).StorageClass).toBe('STANDARD_IA');
    await put('explicit', 2 * MiB, 'STANDARD');
    expect((await head('explicit')).StorageClass).toBeUndefined();
  }, 120_000);

  it('lifecycle’s metadata call swaps a version’s chunk list in place (same version id), and refuses a stale one', async () => {
    await region.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    await put('move', 2 * MiB + 5, 'STANDARD');
    const before = await version('move');
    // What lifecycle does: the bytes re-stored in the new class (here by a copy to a scratch key, as the gateway would), then one call.
    await region.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'scratch', CopySource: `${BUCKET}/move`, StorageClass: 'GLACIER_IR' }));
    const coded = (await version('scratch')).chunks;
    const reply = await region.rpc.request<ChangeObjectStorageClassReply>(METADATA_SERVICE, MetadataRpc.changeObjectStorageClass, {
      bucket: BUCKET,
      key: 'move',
      versionId: before.versionId,
      etag: before.etag,
      fromStorageClass: 'STANDARD',
      storageClass: 'GLACIER_IR',
      chunks: coded,
    });
    expect(reply).toMatchObject({ versionId: before.versionId, storageClass: 'GLACIER_IR', changed: true });
    const after = await version('move');
    expect(after).toMatchObject({ versionId: before.versionId, storageClass: 'GLACIER_IR', etag: before.etag });
    expect(after.chunks).toEqual(coded);
    expect(await getSha('move')).toBe(expectedSha256(2 * MiB + 5 + 'move'.length, 2 * MiB + 5));
    await expect(
      region.rpc.request(METADATA_SERVICE, MetadataRpc.changeObjectStorageClass, { bucket: BUCKET, key: 'move', versionId: before.versionId, etag: before.etag, fromStorageClass: 'STANDARD', storageClass: 'STANDARD_IA', chunks: coded }),
    ).rejects.toMatchObject({ code: 'PreconditionFailed' });
  }, 120_000);

  it('cold objects of 0 B to 100 MiB round-trip, whole and by range, with a node stopped (m = 1 of 2+1)', async () => {
    for (const sizeBytes of COLD_SIZES) await put(`cold-${sizeBytes}`, sizeBytes, 'GLACIER_IR', sizeBytes);
    for (const sizeBytes of COLD_SIZES) expect(await getSha(`cold-${sizeBytes}`)).toBe(expectedSha256(sizeBytes, sizeBytes));

    await region.stopNode('storage-2');
    try {
      for (const sizeBytes of COLD_SIZES) {
        expect(await getSha(`cold-${sizeBytes}`)).toBe(expectedSha256(sizeBytes, sizeBytes));
        if (sizeBytes > 2) {
          // A range inside one stripe, and one across stripes and shards.
          const a = Math.floor(sizeBytes / 3);
          const b = Math.min(sizeBytes - 1, a + Math.floor(sizeBytes / 2));
          expect(await getSha(`cold-${sizeBytes}`, `bytes=${a}-${b}`)).toBe(expectedSha256(sizeBytes, sizeBytes, a, b + 1));
          expect(await getSha(`cold-${sizeBytes}`, `bytes=1-1`)).toBe(expectedSha256(sizeBytes, sizeBytes, 1, 2));
        }
      }
    } finally {
      await region.startNode('storage-2');
    }
  }, 600_000);

  /** True when every referenced chunk and shard is on exactly the nodes it belongs on (its ring replicas; a shard's stripe place). */
  const placementIsExact = async (): Promise<boolean> => {
    const [{ epoch, nodes }, refs, holdings] = await Promise.all([
      region.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}),
      region.references(),
      Promise.all(NODES.map(async (n) => [n, await region.held(n)] as const)),
    ]);
    const ring = HashRing.build({ epoch, members: ringMembers(nodes) });
    return refs.every((r) => {
      const expected = expectedHolders(ring, r.hash as ContentHash, r).sort();
      const holders = holdings.filter(([, h]) => h.has(r.hash)).map(([n]) => n).sort();
      return expected.length === holders.length && expected.every((n, i) => n === holders[i]);
    });
  };

  /** The node a shard lives on (the stripe's place), and the file it is in there. */
  const shardOnDisk = async (key: string, chunk: number, index: number) => {
    const view = await version(key);
    const ref = view.chunks[chunk];
    const { epoch, nodes } = await region.rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {});
    const ring = HashRing.build({ epoch, members: ringMembers(nodes) });
    const nodeId = ring.replicasFor(ref.hash as ContentHash, 3)[index].nodeId;
    const hash = ref.erasure!.shards[index];
    return { nodeId, hash, file: chunkFileOf(region.nodes.get(nodeId)!.dataDir, hash) };
  };

  it('a corrupt shard is detected by its hash (the read decodes around it) and rebuilt from the others by the sweep', async () => {
    const key = `cold-${5 * MiB + 3}`;
    const { nodeId, hash, file } = await shardOnDisk(key, 2, 0);
    const bytes = await fsp.readFile(file);
    bytes[1234] ^= 0xff;
    await fsp.writeFile(file, bytes);
    // Served right all the same: the node refuses the bad bytes (or the gateway's hash check does) and the stripe is decoded.
    expect(await getSha(key)).toBe(expectedSha256(5 * MiB + 3, 5 * MiB + 3));
    await eventually(async () => (await region.held(nodeId)).has(hash) && sha256(await fsp.readFile(file)) === hash, 60_000, 500);
    expect(await getSha(key, `bytes=${2 * MiB}-${3 * MiB - 1}`)).toBe(expectedSha256(5 * MiB + 3, 5 * MiB + 3, 2 * MiB, 3 * MiB));
  }, 120_000);

  it('a node whose disk is lost gets every shard it held rebuilt from k others; nothing is left anywhere it does not belong', async () => {
    await region.stopNode('storage-3');
    await fsp.rm(`${region.nodes.get('storage-3')!.dataDir}/chunks`, { recursive: true, force: true });
    await region.startNode('storage-3');
    await eventually(placementIsExact, 150_000, 1_000);
    for (const sizeBytes of COLD_SIZES.slice(0, 5)) expect(await getSha(`cold-${sizeBytes}`)).toBe(expectedSha256(sizeBytes, sizeBytes));
  }, 200_000);

  it('garbage collection takes an erasure-coded version’s shards once nothing names them, and keeps those still named', async () => {
    const gone = await version('gir');
    const kept = await version(`cold-${MiB}`);
    await region.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gir', VersionId: gone.versionId }));
    const goneShards = gone.chunks.flatMap((c) => c.erasure!.shards);
    const keptShards = kept.chunks.flatMap((c) => c.erasure!.shards);
    await eventually(async () => {
      const holdings = await Promise.all(NODES.map((n) => region.held(n)));
      return goneShards.every((h) => holdings.every((held) => !held.has(h))) && keptShards.every((h) => holdings.some((held) => held.has(h)));
    }, 3 * GC_GRACE_MS, 1_000);
    expect(await getSha(`cold-${MiB}`)).toBe(expectedSha256(MiB, MiB));
  }, 4 * GC_GRACE_MS);

  it('capacity accounting: bytes per class (erasure-coded ones at (k+m)/k = 1.5 on the nodes, STANDARD at 3), chunk bytes per node, the saving', async () => {
    const { status, body } = await region.admin<{
      classes: { storageClass: string; logicalBytes: number; inlineBytes: number; storedBytes: number; threeCopyBytes: number }[];
      totals: { savingBytes: number; rawBytesOnNodes: number };
      nodes: { nodeId: string; reachable: boolean; chunkBytes: number | null }[];
    }>('GET', '/admin/capacity');
    expect(status).toBe(200);
    const of = (c: string) => body.classes.find((x) => x.storageClass === c)!;
    const glacier = of('GLACIER_IR');
    // 1 MiB chunks in 2+1 stripes: 1.5 bytes per byte, give or take a stripe's padding.
    expect(glacier.storedBytes / (glacier.logicalBytes - glacier.inlineBytes)).toBeGreaterThan(1.49);
    expect(glacier.storedBytes / (glacier.logicalBytes - glacier.inlineBytes)).toBeLessThan(1.51);
    const standard = of('STANDARD');
    expect(standard.storedBytes).toBe(3 * (standard.logicalBytes - standard.inlineBytes));
    expect(body.totals.savingBytes).toBeGreaterThan(glacier.logicalBytes);
    expect(body.nodes.map((n) => n.nodeId).sort()).toEqual(NODES);
    expect(body.nodes.every((n) => n.reachable && (n.chunkBytes ?? 0) > 0)).toBe(true);
    const metrics = await (await fetch(`${region.scheduler().url}/metrics`, { headers: { authorization: `Bearer ${region.operatorToken}` } })).text();
    expect(metrics).toMatch(/cairn_capacity_class_stored_bytes\{class="GLACIER_IR"[^}]*\} \d+/);
    expect(metrics).toMatch(/cairn_capacity_node_chunk_bytes\{node="storage-1"[^}]*\} \d+/);
  }, 60_000);
});
