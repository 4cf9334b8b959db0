import { createHash } from 'node:crypto';
import type { StoredEvent } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import type { EventEnvelope } from '@cairn/protocol';
import type { MetadataError } from '../shared/metadata.errors';
import { advanceTimeline, bucketAsOf, emptyTimeline, keyAsOf, liveVersion, parseMoment, restoreActionFor, restoreActionsForRange, withoutInlineBodies, type KeyTimeline } from './point-in-time';

const key = 'docs/report.txt';
const ref = { bucket: 'b', key, keyId: keyIdOf(key), incarnation: 1 };
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const T = (minute: number) => `2026-12-02T10:${String(minute).padStart(2, '0')}:00.000Z`;
let seq = 1;

function stored(type: string, data: unknown, minute: number): StoredEvent {
  const envelope = { id: `e${seq}`, type, schemaVersion: 1, aggregateId: 'x', region: 'r', hlc: 'h', causationId: null, correlationId: null, occurredAt: T(minute), data } as unknown as EventEnvelope;
  return { envelope, sequence: seq++ };
}
const created = (minute: number) => stored('BucketCreated', { bucket: 'b', owner: 'o', region: 'r', createdAt: T(minute), versioning: 'Unversioned', replication: { mode: 'local' }, defaultStorageClass: 'STANDARD' }, minute);
const put = (body: string, minute: number, versionId = 'null') =>
  stored(
    'ObjectVersionPut',
    {
      ...ref,
      versionId,
      sizeBytes: body.length,
      etag: md5(body),
      checksums: {},
      contentType: 'text/plain',
      userMetadata: {},
      contentHeaders: {},
      chunks: [{ hash: createHash('sha256').update(body).digest('hex'), offsetBytes: 0, sizeBytes: body.length }],
      storageClass: 'STANDARD',
      tags: [],
      hlc: `h${minute}`,
      lastModified: T(minute),
    },
    minute,
  );
const deleted = (versionId: string, minute: number) => stored('ObjectVersionDeleted', { ...ref, versionId, wasDeleteMarker: false, wasCurrent: true, newCurrentVersionId: null }, minute);

describe('the past from the event log', () => {
  it('parses ISO instants with a zone and refuses anything else', () => {
    expect(parseMoment('2026-12-02T10:05:00Z')).toBe(Date.parse('2026-12-02T10:05:00Z'));
    expect(parseMoment('2026-12-02T10:05:00.123+01:00')).toBe(Date.parse('2026-12-02T09:05:00.123Z'));
    for (const bad of ['yesterday', '2026-12-02', '2026-12-02T10:05:00', 42, undefined]) {
      expect(() => parseMoment(bad)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }) as unknown as MetadataError);
    }
  });

  it('folds a bucket as of a moment: absent before its creation, live after', () => {
    const history = [created(1)];
    expect(bucketAsOf(history, Date.parse(T(0))).state.status).toBe('absent');
    const after = bucketAsOf(history, Date.parse(T(2)));
    expect(after.state.status).toBe('live');
    expect(after.incarnation).toBe(history[0].sequence);
  });

  it('a key deleted later is still live as of a moment before the delete', () => {
    const history = [put('v1', 1), put('v2', 3), deleted('null', 5)];
    expect(liveVersion(keyAsOf(history, Date.parse(T(0))), 1)).toBeNull();
    expect(liveVersion(keyAsOf(history, Date.parse(T(2))), 1)?.etag).toBe(md5('v1'));
    expect(liveVersion(keyAsOf(history, Date.parse(T(4))), 1)?.etag).toBe(md5('v2'));
    expect(liveVersion(keyAsOf(history, Date.parse(T(6))), 1)).toBeNull();
  });

  it('one pass folds a key then and now', () => {
    const history = [put('v1', 1), put('v2', 3)];
    const timeline = history.reduce((t, e) => advanceTimeline(t, e, Date.parse(T(2))), emptyTimeline(key));
    expect(liveVersion(timeline.then, 1)?.etag).toBe(md5('v1'));
    expect(liveVersion(timeline.now, 1)?.etag).toBe(md5('v2'));
  });

  it('plans a put of the old content, a delete, or nothing', () => {
    const v1 = liveVersion(keyAsOf([put('v1', 1)], Date.parse(T(9))), 1)!;
    const v2 = liveVersion(keyAsOf([put('v2', 2)], Date.parse(T(9))), 1)!;
    expect(restoreActionFor(key, v1, null)).toEqual({ kind: 'put', key, version: expect.objectContaining({ etag: md5('v1'), chunks: v1.chunks, versionIdThen: 'null' }) });
    expect(restoreActionFor(key, v1, v2)?.kind).toBe('put');
    expect(restoreActionFor(key, v1, v1)).toBeNull();
    expect(restoreActionFor(key, null, v2)).toEqual({ kind: 'delete', key, currentEtag: md5('v2') });
    expect(restoreActionFor(key, null, null)).toBeNull();
  });

  it('a key of another life of the bucket is not live in this one', () => {
    const key1 = keyAsOf([put('v1', 1)], Date.parse(T(9)));
    expect(liveVersion(key1, 1)).not.toBeNull();
    expect(liveVersion(key1, 2)).toBeNull();
  });

  describe('a page of a restore from a backup: source keys then against the target now, over a key range', () => {
    const at = Date.parse(T(5));
    const then = (body: string | null) => ({ then: keyAsOf(body === null ? [] : [put(body, 1)], at) });
    const targetKey = (name: string, body: string | null): KeyTimeline => {
      const history = body === null ? [] : [put(body, 7)];
      return { key: name, then: keyAsOf(history, at), now: keyAsOf(history, Number.MAX_SAFE_INTEGER) };
    };
    const page = (over: Partial<Parameters<typeof restoreActionsForRange>[0]>) =>
      restoreActionsForRange({ sourceKeys: [], sourceIncarnation: 1, targetKeys: [], targetIncarnation: 1, prefix: '', after: '', through: null, ...over }).map((a) => `${a.kind} ${a.key}`);

    it.each([
      ['a key the target lacks is put', { sourceKeys: [{ key: 'a', ...then('v1') }] }, ['put a']],
      ['a key already the same is left alone', { sourceKeys: [{ key: 'a', ...then('v1') }], targetKeys: [targetKey('a', 'v1')] }, []],
      ['a key changed since is put back', { sourceKeys: [{ key: 'a', ...then('v1') }], targetKeys: [targetKey('a', 'v2')] }, ['put a']],
      ['a target key in the range the page does not name is deleted', { sourceKeys: [{ key: 'b', ...then('v1') }], targetKeys: [targetKey('a', 'x'), targetKey('b', 'v1')], through: 'b' }, ['delete a']],
      ['a target key past the range is left for a later page', { sourceKeys: [{ key: 'a', ...then('v1') }], targetKeys: [targetKey('c', 'x')], through: 'b' }, ['put a']],
      ['a target key before the range was a former page\'s', { targetKeys: [targetKey('a', 'x')], after: 'a' }, []],
      ['the last page reaches the end of the key space', { targetKeys: [targetKey('zz', 'x')], after: 'a', through: null }, ['delete zz']],
      ['outside the prefix nothing is touched', { sourceKeys: [{ key: 'other/a', ...then('v1') }], targetKeys: [targetKey('other/b', 'x')], prefix: 'docs/' }, []],
      ['a key absent then and now needs nothing', { sourceKeys: [{ key: 'a', ...then(null) }] }, []],
      ['actions come in key order', { sourceKeys: [{ key: 'b', ...then('v1') }, { key: 'd', ...then('v1') }], targetKeys: [targetKey('c', 'x'), targetKey('a', 'x')] }, ['delete a', 'put b', 'delete c', 'put d']],
      // S3's order (UTF-8 bytes): an emoji (U+1F600) sorts after U+FFFD, where UTF-16 code units put it before.
      ['ranges are in UTF-8 byte order', { targetKeys: [targetKey('a\u{1F600}', 'x'), targetKey('a\uFFFD', 'x')], after: 'a\uFFFD', through: null }, ['delete a\u{1F600}']],
      ['actions come in UTF-8 byte order', { targetKeys: [targetKey('a\u{1F600}', 'x'), targetKey('a\uFFFD', 'x')] }, ['delete a\uFFFD', 'delete a\u{1F600}']],
    ])('%s', (_name, over, expected) => {
      expect(page(over)).toEqual(expected);
    });

    it('compares the target without its inline bodies: same chunk hashes are the same content', () => {
      const inline = (body: string, minute = 7) => {
        const e = put(body, minute);
        const data = e.envelope.data as { chunks: { inline?: string }[] };
        data.chunks = data.chunks.map((c) => ({ ...c, inline: Buffer.from(body).toString('base64') }));
        return e;
      };
      const now = withoutInlineBodies(keyAsOf([inline('v1')], Number.MAX_SAFE_INTEGER));
      expect(now.versions[0].chunks.every((c) => c.inline === undefined)).toBe(true);
      expect(now.versions[0].chunks[0].hash).toBe(createHash('sha256').update('v1').digest('hex'));
      const source = { key: 'a', then: keyAsOf([inline('v1', 1)], at) };
      expect(page({ sourceKeys: [source], targetKeys: [{ key: 'a', now }] })).toEqual([]);
      const changed = withoutInlineBodies(keyAsOf([inline('v2')], Number.MAX_SAFE_INTEGER));
      const actions = restoreActionsForRange({ sourceKeys: [source], sourceIncarnation: 1, targetKeys: [{ key: 'a', now: changed }], targetIncarnation: 1, prefix: '', after: '', through: null });
      // The version put back carries the source's chunks, inline bodies included.
      expect(actions).toMatchObject([{ kind: 'put', key: 'a', version: { chunks: [{ inline: Buffer.from('v1').toString('base64') }] } }]);
    });
  });
});
