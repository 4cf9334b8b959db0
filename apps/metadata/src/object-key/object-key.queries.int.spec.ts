import type { DataSource } from 'typeorm';
import { MetadataProjector } from '../projections/metadata-projector';
import { keyIdOf } from '@cairn/hashing';
import { md5Hex, MetadataWorld, sha256Hex } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { compareKeys } from '../adapters/listing/key-order';
import { expectBoundedWalks } from '../adapters/listing/listing-walk.spec-helper';
import { ObjectKeyQueries } from './object-key.queries';
import { tableIn } from '../adapters/metadata-schema';

const ODD_KEYS = [
  'a',
  'a/b',
  'a/b/c',
  'a/c',
  'a b',
  'a\nb',
  'a%2Fb',
  '../etc/passwd',
  './x',
  '\u0001ctl',
  'b/',
  'b//c',
  'b/d',
  'photos/2024/jan/1.jpg',
  'photos/2024/feb/2.jpg',
  'photos/2025/x.jpg',
  'photos/readme',
  '😀/smile',
  '😀😀',
  '\uFFFD',
  'é',
  'z'.repeat(1024),
  'é'.repeat(512),
];

type Listed = string | { prefix: string };

/** S3's listing, the slow obvious way: the oracle for the paged, seeking implementation. */
function referenceListing(keys: readonly string[], prefix: string, delimiter: string, marker: string | null): Listed[] {
  const out: Listed[] = [];
  const seen = new Set<string>();
  for (const key of [...keys].sort(compareKeys)) {
    if (!key.startsWith(prefix) || (marker !== null && compareKeys(key, marker) <= 0)) continue;
    const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (at < 0) {
      out.push(key);
      continue;
    }
    const cp = key.slice(0, at + delimiter.length);
    if ((marker !== null && compareKeys(cp, marker) <= 0) || seen.has(cp)) continue;
    seen.add(cp);
    out.push({ prefix: cp });
  }
  return out;
}

function merged(result: { contents: readonly { key: string }[]; commonPrefixes: readonly string[] }): Listed[] {
  const all: Listed[] = [...result.contents.map((c) => c.key), ...result.commonPrefixes.map((prefix) => ({ prefix }))];
  return all.sort((x, y) => compareKeys(typeof x === 'string' ? x : x.prefix, typeof y === 'string' ? y : y.prefix));
}

describe('ObjectKeyQueries (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: ObjectKeyQueries;
  const world = new MetadataWorld();
  const versions: Record<string, string[]> = {};

  beforeAll(async () => {
    db = await openTestSchema('queries');
    queries = new ObjectKeyQueries(db.dataSource);
    await world.createBucket('odd');
    for (const key of ODD_KEYS) await world.put('odd', key, `body of ${key}`);
    await world.put('odd', 'deleted', 'gone soon');
    await world.deleteObject('odd', 'deleted', 'Unversioned');

    await world.createBucket('ver', 'Enabled');
    for (const [key, count] of [['k1', 3], ['d/x', 2], ['k2', 1]] as const) {
      versions[key] = [];
      for (let i = 0; i < count; i++) versions[key].unshift(await world.put('ver', key, `${key} #${i}`, 'Enabled'));
    }
    versions['k1'].unshift(await world.deleteObject('ver', 'k1', 'Enabled'));
    versions['gone'] = [await world.deleteObject('ver', 'gone', 'Enabled')];

    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  describe('listObjects semantics', () => {
    it('lists every key in UTF-8 byte order, never a deleted one', async () => {
      const result = await queries.listObjectsV2('odd', {});
      expect(result.contents.map((c) => c.key)).toEqual([...ODD_KEYS].sort(compareKeys));
      expect(result).toMatchObject({ isTruncated: false, keyCount: ODD_KEYS.length, commonPrefixes: [] });
      // Byte order, not JavaScript's UTF-16 order: U+FFFD before the emoji.
      const keys = result.contents.map((c) => c.key);
      expect(keys.indexOf('\uFFFD')).toBeLessThan(keys.indexOf('😀😀'));
    });

    const cp = (prefix: string) => ({ prefix });
    const Z = 'z'.repeat(1024);
    const E = 'é'.repeat(512);
    it.each([
      ['a delimiter at the root', '', '/', null, ['\u0001ctl', cp('../'), cp('./'), 'a', 'a\nb', 'a b', 'a%2Fb', cp('a/'), cp('b/'), cp('photos/'), Z, 'é', E, '\uFFFD', cp('😀/'), '😀😀']],
      ['a prefix and delimiter', 'photos/', '/', null, [cp('photos/2024/'), cp('photos/2025/'), 'photos/readme']],
      ['a deeper prefix', 'photos/2024/', '/', null, [cp('photos/2024/feb/'), cp('photos/2024/jan/')]],
      ['a prefix that is a key', 'a', '/', null, ['a', 'a\nb', 'a b', 'a%2Fb', cp('a/')]],
      ['keys equal to a common prefix roll up', 'b', '/', null, [cp('b/')]],
      ['a multi-character delimiter', 'b', '//', null, ['b/', cp('b//'), 'b/d']],
      ['a dot-dot prefix', '../', '', null, ['../etc/passwd']],
      ['an emoji prefix', '😀', '/', null, [cp('😀/'), '😀😀']],
      ['a marker inside a common prefix skips it', '', '/', 'a/b', [cp('b/'), cp('photos/'), Z, 'é', E, '\uFFFD', cp('😀/'), '😀😀']],
      ['a marker equal to a common prefix', 'photos/', '/', 'photos/2024/', [cp('photos/2025/'), 'photos/readme']],
      ['a marker past the prefix', 'photos/', '', 'q', []],
      ['a prefix with no keys', 'nothing/', '/', null, []],
    ] as const)('%s', async (_, prefix, delimiter, marker, expected) => {
      const result = await queries.listObjects('odd', { prefix, delimiter, marker: marker ?? undefined });
      expect(merged(result)).toEqual(expected);
      expect(referenceListing(ODD_KEYS, prefix, delimiter, marker)).toEqual(expected);
      expect(result.isTruncated).toBe(false);
    });

    it('pages through with markers, tokens and start-after at every page size to the same listing', async () => {
      for (const [prefix, delimiter] of [['', ''], ['', '/'], ['photos/', '/'], ['a', '/'], ['b', '//']] as const) {
        const expected = referenceListing(ODD_KEYS, prefix, delimiter, null);
        for (const maxKeys of [1, 2, 3, 7]) {
          const v1: Listed[] = [];
          let marker: string | undefined;
          for (let page = 0; ; page++) {
            expect(page).toBeLessThan(100);
            const result = await queries.listObjects('odd', { prefix, delimiter, maxKeys, marker });
            const entries = merged(result);
            v1.push(...entries);
            expect(entries.length).toBeLessThanOrEqual(maxKeys);
            if (!result.isTruncated) break;
            expect(entries).toHaveLength(maxKeys);
            const last = entries[entries.length - 1];
            marker = result.nextMarker ?? (typeof last === 'string' ? last : last.prefix);
          }
          expect(v1).toEqual(expected);

          const v2: Listed[] = [];
          let continuationToken: string | undefined;
          for (let page = 0; ; page++) {
            expect(page).toBeLessThan(100);
            const result = await queries.listObjectsV2(
              'odd',
              continuationToken === undefined ? { prefix, delimiter, maxKeys } : { prefix, delimiter, maxKeys, continuationToken, startAfter: 'zzz-ignored' },
            );
            const entries = merged(result);
            v2.push(...entries);
            expect(result.keyCount).toBe(entries.length);
            if (!result.isTruncated) {
              expect(result.nextContinuationToken).toBeUndefined();
              break;
            }
            continuationToken = result.nextContinuationToken;
          }
          expect(v2).toEqual(expected);
        }
      }
    });

    it('honours start-after in v2 and nextMarker only with a delimiter in v1', async () => {
      const after = await queries.listObjectsV2('odd', { startAfter: 'photos/readme', maxKeys: 2 });
      expect(after.contents.map((c) => c.key)).toEqual(referenceListing(ODD_KEYS, '', '', 'photos/readme').slice(0, 2));
      expect((await queries.listObjects('odd', { maxKeys: 1 })).nextMarker).toBeUndefined();
      expect((await queries.listObjects('odd', { maxKeys: 2, delimiter: '/' })).nextMarker).toBe('../');
    });

    it('answers max-keys 0 with nothing, clamps max-keys to 1000 and refuses a negative one', async () => {
      expect(await queries.listObjectsV2('odd', { maxKeys: 0 })).toMatchObject({ contents: [], isTruncated: false, keyCount: 0 });
      expect((await queries.listObjectsV2('odd', { maxKeys: 5000 })).keyCount).toBe(ODD_KEYS.length);
      await expect(queries.listObjectsV2('odd', { maxKeys: -1 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    });

    it('refuses a forged continuation token and a missing bucket', async () => {
      await expect(queries.listObjectsV2('odd', { continuationToken: 'bm90IGEgdG9rZW4' })).rejects.toMatchObject({ code: 'InvalidArgument' });
      await expect(queries.listObjects('nope', {})).rejects.toMatchObject({ code: 'NoSuchBucket' });
    });
  });

  describe('listObjectVersions', () => {
    const everyVersion = () => [
      ...versions['d/x'].map((v) => ['d/x', v]),
      ...versions['gone'].map((v) => ['gone', v]),
      ...versions['k1'].map((v) => ['k1', v]),
      ...versions['k2'].map((v) => ['k2', v]),
    ];

    it('lists keys in order, each key newest first, delete markers included', async () => {
      const result = await queries.listObjectVersions('ver', {});
      expect(result.versions.map((v) => [v.key, v.versionId])).toEqual(everyVersion());
      expect(result.versions.filter((v) => v.isLatest).map((v) => v.key)).toEqual(['d/x', 'gone', 'k1', 'k2']);
      expect(result.versions.filter((v) => v.isDeleteMarker).map((v) => v.key)).toEqual(['gone', 'k1']);
    });

    it('pages with key and version-id markers at every page size', async () => {
      for (const maxKeys of [1, 2, 3, 4]) {
        const seen: string[][] = [];
        let keyMarker: string | undefined;
        let versionIdMarker: string | undefined;
        for (let page = 0; ; page++) {
          expect(page).toBeLessThan(50);
          const result = await queries.listObjectVersions('ver', { maxKeys, keyMarker, versionIdMarker });
          seen.push(...result.versions.map((v) => [v.key, v.versionId]));
          if (!result.isTruncated) break;
          keyMarker = result.nextKeyMarker;
          versionIdMarker = result.nextVersionIdMarker;
        }
        expect(seen).toEqual(everyVersion());
      }
    });

    it('rolls keys up with a delimiter and resumes after a common prefix', async () => {
      const first = await queries.listObjectVersions('ver', { delimiter: '/', maxKeys: 1 });
      expect(first).toMatchObject({ versions: [], commonPrefixes: ['d/'], isTruncated: true, nextKeyMarker: 'd/' });
      const next = await queries.listObjectVersions('ver', { delimiter: '/', maxKeys: 2, keyMarker: first.nextKeyMarker });
      expect(next.versions.map((v) => v.key)).toEqual(['gone', 'k1']);
    });

    it('starts after a whole key when given only a key marker, and refuses a lone or unknown version marker', async () => {
      const result = await queries.listObjectVersions('ver', { keyMarker: 'k1' });
      expect(result.versions.map((v) => v.key)).toEqual(['k2']);
      await expect(queries.listObjectVersions('ver', { versionIdMarker: 'x' })).rejects.toMatchObject({ code: 'InvalidArgument' });
      await expect(queries.listObjectVersions('ver', { keyMarker: 'k1', versionIdMarker: 'x' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    });
  });
});

describe('listing a large bucket (Postgres)', () => {
  const DIRECTORIES = 400;
  const FILES_PER_DIRECTORY = 500;
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };

  beforeAll(async () => {
    db = await openTestSchema('large');
    const t = tableIn(db.schema);
    await db.dataSource.query(
      `INSERT INTO ${t('buckets')} (name, owner, region, created_at, versioning, replication_mode, default_storage_class, created_sequence, updated_sequence)
       VALUES ('big', 'alice', 'eu-one', now(), 'Unversioned', 'local', 'STANDARD', 1, 1)`,
    );
    await db.dataSource.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, storage_class, hlc, last_modified)
       SELECT 'big', md5(k) || md5(k), 'null', k, n, true, false, 1, md5(k), 'STANDARD', 'h', now()
       FROM (SELECT n, 'dir' || lpad((n / ${FILES_PER_DIRECTORY})::text, 4, '0') || '/file' || lpad((n % ${FILES_PER_DIRECTORY})::text, 4, '0') AS k
             FROM generate_series(0, ${DIRECTORIES * FILES_PER_DIRECTORY - 1}) AS n) AS keys`,
    );
    await db.dataSource.query(`ANALYZE ${t('object_versions')}`);
  }, 120_000);
  afterAll(() => db.drop());

  /** The adapter over a data source that records every statement it runs. */
  function recordingAdapter() {
    const statements: { sql: string; params: unknown[] }[] = [];
    const recording = {
      options: db.dataSource.options,
      query: (sql: string, params: unknown[] = []) => {
        statements.push({ sql, params });
        return db.dataSource.query(sql, params);
      },
    } as unknown as DataSource;
    return { adapter: new ObjectKeyQueries(recording), statements };
  }

  async function plansOf(statements: readonly { sql: string; params: unknown[] }[]): Promise<string[]> {
    const plans: string[] = [];
    for (const { sql, params } of statements) {
      const [row] = await db.dataSource.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      plans.push(JSON.stringify(row['QUERY PLAN']));
    }
    return plans;
  }

  it(`lists 1000 keys from the middle of ${DIRECTORIES * FILES_PER_DIRECTORY} through the index`, async () => {
    const { adapter, statements } = recordingAdapter();
    const result = await adapter.listObjectsV2('big', { startAfter: 'dir0200/file0000', maxKeys: 1000 });
    expect(result.keyCount).toBe(1000);
    expect(result.contents[0].key).toBe('dir0200/file0001');
    const plans = await plansOf(statements);
    expect(plans.some((p) => p.includes('object_versions_current_idx'))).toBe(true);
    expect(plans.filter((p) => p.includes('Seq Scan'))).toEqual([]);
  });

  it('lists common prefixes by walking past each one inside a few statements, through the index', async () => {
    const { adapter, statements } = recordingAdapter();
    const result = await adapter.listObjectsV2('big', { delimiter: '/', maxKeys: 1000 });
    expect(result.commonPrefixes).toEqual(Array.from({ length: DIRECTORIES }, (_, d) => `dir${String(d).padStart(4, '0')}/`));
    expect(result.isTruncated).toBe(false);
    await expectBoundedWalks(db.dataSource, statements, 'object_versions');
  });

  it('lists the same page of mixed folders and keys whether it walks or seeks', async () => {
    const { adapter, statements } = recordingAdapter();
    // Within each directory 'file00' rolls file0000…file0099 up into one prefix; file0100… stay keys.
    const result = await adapter.listObjectsV2('big', { delimiter: 'file00', startAfter: 'dir0100/', maxKeys: 1000 });
    const pad = (n: number) => String(n).padStart(4, '0');
    const expected: string[] = [];
    for (let d = 100; expected.length < 1000; d++) {
      expected.push(`dir${pad(d)}/file00`);
      for (let f = 100; f < FILES_PER_DIRECTORY && expected.length < 1000; f++) expected.push(`dir${pad(d)}/file${pad(f)}`);
    }
    expect([...result.contents.map((c) => c.key), ...result.commonPrefixes].sort()).toEqual(expected);
    expect(result.commonPrefixes).toEqual(expected.filter((k) => k.endsWith('file00')));
    expect(result.isTruncated).toBe(true);
    expect(statements.some((s) => s.sql.includes('WITH RECURSIVE'))).toBe(true);
  });
});

describe('content headers and part sizes in the read model (Postgres)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  const world = new MetadataWorld();
  const contentHeaders = { 'cache-control': 'max-age=60', 'content-disposition': 'attachment; filename="r.txt"', 'content-encoding': 'gzip', expires: 'Thu, 01 Jan 2037 00:00:00 GMT' };
  const body = 'part one.part two';

  beforeAll(async () => {
    db = await openTestSchema('headers');
    await world.createBucket('docs');
    const common = { type: 'PutObjectVersion', bucket: 'docs', versioning: 'Unversioned', checksums: {}, contentType: 'text/plain', userMetadata: {}, storageClass: 'STANDARD' } as const;
    const chunks = [{ hash: sha256Hex(body), offsetBytes: 0, sizeBytes: body.length }];
    await world.object({ ...common, key: 'headed', keyId: keyIdOf('headed'), versionId: 'v1', sizeBytes: body.length, etag: md5Hex(body), chunks, hlc: 'h1', lastModified: world.at(), contentHeaders });
    await world.object({ ...common, key: 'plain', keyId: keyIdOf('plain'), versionId: 'v2', sizeBytes: body.length, etag: md5Hex(body), chunks, hlc: 'h2', lastModified: world.at() });
    await world.object({
      ...common,
      key: 'assembled',
      keyId: keyIdOf('assembled'),
      versionId: 'v3',
      sizeBytes: body.length,
      etag: `${md5Hex(body)}-2`,
      chunks,
      hlc: 'h3',
      lastModified: world.at(),
      uploadId: 'u-done',
      partSizes: [9, 8],
    });
    await world.upload({ type: 'InitiateMultipartUpload', bucket: 'docs', key: 'pending', keyId: keyIdOf('pending'), uploadId: 'u-open', owner: 'alice', initiatedAt: world.at(), contentType: 'text/plain', userMetadata: {}, contentHeaders, storageClass: 'STANDARD' });
    await new MetadataProjector(db.dataSource).project(world.store.all());
  });
  afterAll(() => db.drop());

  /** The projected row of a key's current version. */
  const currentRow = async (key: string) =>
    (await db.dataSource.query(`SELECT content_headers, upload_id, part_sizes FROM ${tableIn(db.schema)('object_versions')} WHERE bucket = 'docs' AND key = $1 AND is_current`, [key]))[0];

  it('keeps the content headers a version was put with, and none for a version without', async () => {
    expect((await currentRow('headed')).content_headers).toEqual(contentHeaders);
    expect((await currentRow('plain')).content_headers).toEqual({});
  });

  it('keeps the part sizes of a completed upload, and null for a single-part version', async () => {
    // bigint[] arrives as text.
    expect(await currentRow('assembled')).toMatchObject({ upload_id: 'u-done', part_sizes: ['9', '8'] });
    expect((await currentRow('plain')).part_sizes).toBeNull();
  });

  it('keeps the content headers of an upload in progress', async () => {
    const [row] = await db.dataSource.query(`SELECT content_headers FROM ${tableIn(db.schema)('multipart_uploads')} WHERE upload_id = 'u-open'`);
    expect(row.content_headers).toEqual(contentHeaders);
  });
});
