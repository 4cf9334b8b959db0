import { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { testNamespace } from '@cairn/testing';
import type { MetadataConfig } from '../metadata.config';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { body, codeOf, md5 } from '../testing/rpc-test-helpers';
import { bootTwoInstances, closeTwoInstances } from '../testing/two-instances';
import { ObjectCommandsHandler } from './object-commands.handler';

/**
 * HEAD/GET reads a key and its bucket from their subjects (by direct get on a one-replica stream):
 * each instance keeps folded states, and none may answer from a state another instance's
 * acknowledged write has overtaken. Writes go through one instance, reads through the other, each
 * read right after the write's answer.
 */
describe('HEAD after a write acknowledged by another instance (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  let a: RunningService<MetadataConfig>;
  let b: RunningService<MetadataConfig>;
  const objects = (instance: RunningService<MetadataConfig>) => instance.app.get(ObjectCommandsHandler);
  const buckets = (instance: RunningService<MetadataConfig>) => instance.app.get(BucketCommandsHandler);

  beforeAll(async () => {
    [a, b] = await bootTwoInstances(ns, {});
  }, 60_000);
  afterAll(() => closeTwoInstances(ns, a, b), 60_000);

  it('sees a new key, each overwrite and each version at once, with the reader holding the older states', async () => {
    // The look-ups under test are direct gets: META has one replica here.
    const jsm = await a.app.get(NatsConnectionManager).jetstreamManager();
    expect((await jsm.streams.info(subjectsFor(ns).streamName('META'))).config).toMatchObject({ num_replicas: 1, allow_direct: true });
    await buckets(b).create({ bucket: 'seen', owner: 'alice', versioningEnabled: true });
    const first = await objects(b).put({ bucket: 'seen', ...body('k', 'one') });
    expect(await objects(a).head('seen', 'k')).toMatchObject({ versionId: first.versionId, etag: md5('one'), isLatest: true });
    const versions = [first.versionId];
    for (let n = 2; n <= 20; n++) {
      // Alternate the writer: the reader's kept state is the one its last read or write left.
      const [writer, reader] = n % 2 === 0 ? [b, a] : [a, b];
      const put = await objects(writer).put({ bucket: 'seen', ...body('k', `v${n}`) });
      versions.push(put.versionId);
      expect(await objects(reader).head('seen', 'k')).toMatchObject({ versionId: put.versionId, etag: md5(`v${n}`), isLatest: true });
    }
    // Each version by id, through both instances.
    for (const [i, versionId] of versions.entries()) {
      const etag = md5(i === 0 ? 'one' : `v${i + 1}`);
      expect(await objects(a).head('seen', 'k', versionId)).toMatchObject({ versionId, etag });
      expect(await objects(b).head('seen', 'k', versionId)).toMatchObject({ versionId, etag });
    }
    // A delete marker by one, seen by the other; the old versions stay readable by id.
    await objects(b).delete({ bucket: 'seen', key: 'k' });
    expect(await codeOf(objects(a).head('seen', 'k'))).toBe('NoSuchKey');
    expect(await objects(a).head('seen', 'k', versions[3])).toMatchObject({ versionId: versions[3], etag: md5('v4') });
  }, 60_000);

  it('answers NoSuchBucket as soon as another instance acknowledged the delete, and sees the next life', async () => {
    await buckets(a).create({ bucket: 'gone', owner: 'alice' });
    const put = await objects(a).put({ bucket: 'gone', ...body('k', 'old life') });
    expect(await objects(b).head('gone', 'k')).toMatchObject({ versionId: put.versionId });
    await objects(a).delete({ bucket: 'gone', key: 'k' });
    await buckets(a).delete('gone');
    // b read the bucket live and the key with a version a moment ago.
    expect(await codeOf(objects(b).head('gone', 'k'))).toBe('NoSuchBucket');
    expect(await codeOf(objects(a).head('gone', 'k'))).toBe('NoSuchBucket');
    // Created again by b: a's read of the new life, empty, then with b's write in it.
    await buckets(b).create({ bucket: 'gone', owner: 'alice' });
    expect(await codeOf(objects(a).head('gone', 'k'))).toBe('NoSuchKey');
    const again = await objects(b).put({ bucket: 'gone', ...body('k', 'new life') });
    expect(await objects(a).head('gone', 'k')).toMatchObject({ versionId: again.versionId, etag: md5('new life') });
  }, 60_000);

  it('never serves a state older than the last write acknowledged before the read began, under concurrent writes', async () => {
    await buckets(a).create({ bucket: 'busy', owner: 'alice' });
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    // Per key: the newest acknowledged etag, and an etag may only move forward.
    const acknowledged = new Map<string, number>();
    const writers = keys.map(async (key, i) => {
      for (let n = 1; n <= 15; n++) {
        await objects(i % 2 === 0 ? a : b).put({ bucket: 'busy', ...body(key, `${key}:${n}`) });
        acknowledged.set(key, n);
      }
    });
    const nOf = (key: string, etag: string | null | undefined) => Array.from({ length: 16 }, (_, m) => m).find((m) => md5(`${key}:${m}`) === etag) ?? -1;
    const readers = keys.map(async (key, i) => {
      let seen = 0;
      while ((acknowledged.get(key) ?? 0) < 15) {
        const floor = acknowledged.get(key) ?? 0;
        const head = await objects(i % 2 === 0 ? b : a)
          .head('busy', key)
          .catch((error: { code?: string }) => {
            // Only before the key's first write is acknowledged may it be missing.
            if (floor > 0 || error.code !== 'NoSuchKey') throw error;
            return undefined;
          });
        if (head === undefined) continue;
        const n = nOf(key, head.etag);
        expect(n).toBeGreaterThanOrEqual(Math.max(floor, seen, 1));
        seen = n;
      }
    });
    await Promise.all([...writers, ...readers]);
  }, 60_000);
});
