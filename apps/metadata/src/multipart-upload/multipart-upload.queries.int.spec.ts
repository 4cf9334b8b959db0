import { keyIdOf } from '@cairn/hashing';
import type { DataSource } from 'typeorm';
import { MetadataProjector } from '../projections/metadata-projector';
import { md5Hex, MetadataWorld, sha256Hex } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { MultipartUploadQueries } from './multipart-upload.queries';

describe('MultipartUploadQueries (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: MultipartUploadQueries;
  const world = new MetadataWorld();

  beforeAll(async () => {
    db = await openTestSchema('uploads');
    queries = new MultipartUploadQueries(db.dataSource);
    await world.createBucket('ver', 'Enabled');
    for (const [uploadId, key] of [['u3', 'b.bin'], ['u1', 'a.bin'], ['u2', 'a.bin'], ['u4', 'dir/c.bin']]) {
      await world.upload({ type: 'InitiateMultipartUpload', bucket: 'ver', key, keyId: keyIdOf(key), uploadId, owner: 'alice', initiatedAt: world.at(), contentType: 'application/octet-stream', userMetadata: {}, storageClass: 'STANDARD' });
    }
    for (let partNumber = 1; partNumber <= 5; partNumber++) {
      const body = `part ${partNumber}`;
      await world.upload({ type: 'UploadPart', bucket: 'ver', uploadId: 'u1', partNumber, etag: md5Hex(body), sizeBytes: body.length, checksums: {}, chunks: [{ hash: sha256Hex(body), offsetBytes: 0, sizeBytes: body.length }], lastModified: world.at() });
    }
    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  describe('multipart uploads and parts', () => {
    it('lists uploads by key, then in initiation order, with markers', async () => {
      const all = await queries.listMultipartUploads('ver', {});
      expect(all.uploads.map((u) => [u.key, u.uploadId])).toEqual([
        ['a.bin', 'u1'],
        ['a.bin', 'u2'],
        ['b.bin', 'u3'],
        ['dir/c.bin', 'u4'],
      ]);
      const page1 = await queries.listMultipartUploads('ver', { maxKeys: 1 });
      expect(page1).toMatchObject({ isTruncated: true, nextKeyMarker: 'a.bin', nextUploadIdMarker: 'u1' });
      const page2 = await queries.listMultipartUploads('ver', { maxKeys: 2, keyMarker: 'a.bin', uploadIdMarker: 'u1' });
      expect(page2.uploads.map((u) => u.uploadId)).toEqual(['u2', 'u3']);
      const rolled = await queries.listMultipartUploads('ver', { delimiter: '/' });
      expect([rolled.uploads.map((u) => u.uploadId), rolled.commonPrefixes]).toEqual([['u1', 'u2', 'u3'], ['dir/']]);
    });

    it('lists parts with a part-number marker', async () => {
      const first = await queries.listParts('ver', 'u1', { maxParts: 2 });
      expect(first.parts.map((p) => p.partNumber)).toEqual([1, 2]);
      expect(first).toMatchObject({ isTruncated: true, nextPartNumberMarker: 2 });
      const rest = await queries.listParts('ver', 'u1', { partNumberMarker: 2 });
      expect(rest.parts.map((p) => [p.partNumber, p.etag])).toEqual([3, 4, 5].map((n) => [n, md5Hex(`part ${n}`)]));
      expect(rest.isTruncated).toBe(false);
      await expect(queries.listParts('ver', 'nope')).rejects.toMatchObject({ code: 'NoSuchUpload' });
    });
  });
});
