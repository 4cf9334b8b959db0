import type { DataSource } from 'typeorm';
import { MultipartUploadQueries } from '../../multipart-upload/multipart-upload.queries';
import { ObjectKeyQueries } from '../../object-key/object-key.queries';
import { tableIn } from '../metadata-schema';
import { openTestSchema } from '../../testing/test-database';
import { compareKeys } from './key-order';
import { expectBoundedWalks } from './listing-walk.spec-helper';

/** A row of a listing with several rows per key: its key, its own id, its place within the key. */
interface KeyedRow {
  readonly key: string;
  readonly id: string;
  readonly sequence: number;
}

type Entry = string | { readonly prefix: string };

interface ExpectedPage {
  readonly entries: Entry[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker?: string;
  readonly nextIdMarker?: string;
}

/**
 * S3's listing of versions or uploads, the slow obvious way: rows in listing order (`rows`), those
 * after the markers, keys under a common prefix rolled up, prefixes at or before the key marker left out.
 */
function referencePage(rows: readonly KeyedRow[], prefix: string, delimiter: string, keyMarker: string | null, after: KeyedRow | null, maxKeys: number): ExpectedPage {
  const entries: Entry[] = [];
  const lastIds: (string | undefined)[] = [];
  let truncated = false;
  for (const row of rows) {
    if (!row.key.startsWith(prefix)) continue;
    if (after !== null ? compareKeys(row.key, after.key) < 0 || (row.key === after.key && !isAfterWithinKey(row, after, rows)) : keyMarker !== null && compareKeys(row.key, keyMarker) <= 0) continue;
    const at = delimiter ? row.key.indexOf(delimiter, prefix.length) : -1;
    const cp = at < 0 ? null : row.key.slice(0, at + delimiter.length);
    if (cp !== null && ((keyMarker !== null && compareKeys(cp, keyMarker) <= 0) || entries.some((e) => typeof e !== 'string' && e.prefix === cp))) continue;
    if (entries.length === maxKeys) {
      truncated = true;
      break;
    }
    entries.push(cp === null ? `${row.key}@${row.id}` : { prefix: cp });
    lastIds.push(cp === null ? row.id : undefined);
  }
  const last = entries.at(-1);
  if (!truncated || last === undefined) return { entries, isTruncated: false };
  return typeof last === 'string'
    ? { entries, isTruncated: true, nextKeyMarker: last.slice(0, last.lastIndexOf('@')), nextIdMarker: lastIds.at(-1) }
    : { entries, isTruncated: true, nextKeyMarker: last.prefix };
}

function isAfterWithinKey(row: KeyedRow, after: KeyedRow, rows: readonly KeyedRow[]): boolean {
  return rows.indexOf(row) > rows.indexOf(after);
}

function entriesOf(rows: readonly { key: string; id: string }[], commonPrefixes: readonly string[]): Entry[] {
  const all = [...rows.map((r) => ({ key: r.key, entry: `${r.key}@${r.id}` as Entry })), ...commonPrefixes.map((prefix) => ({ key: prefix, entry: { prefix } as Entry }))];
  // A stable sort keeps a key's rows in their listed order.
  return all.sort((x, y) => compareKeys(x.key, y.key)).map((x) => x.entry);
}

/** Runs `query` through a data source that records every statement. */
function recording(dataSource: DataSource) {
  const statements: { sql: string; params: unknown[] }[] = [];
  const recorder = {
    options: dataSource.options,
    query: (sql: string, params: unknown[] = []) => {
      statements.push({ sql, params });
      return dataSource.query(sql, params);
    },
  } as unknown as DataSource;
  return { recorder, statements };
}

const pad = (n: number) => String(n).padStart(5, '0');

/** Folders of three files under d/, plain keys between and after them, top-level keys and folders. */
function keysOfTheSmallBucket(): string[] {
  const keys: string[] = ['a', 'e/1', 'e/2/3', 'f', 'k1', 'k2'];
  for (let d = 0; d < 40; d++) for (let f = 0; f < 3; f++) keys.push(`d/${pad(d)}/f${f}`);
  for (const plain of ['d/00010', 'd/00020x', 'd/x', 'd/y/', 'd/y/z', 'd/zz']) keys.push(plain);
  return keys;
}

describe('delimiter listings of versions and uploads walk past common prefixes (Postgres)', () => {
  const FOLDERS = 1200;
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let t: (table: string) => string;
  const versionRows: KeyedRow[] = [];
  const uploadRows: KeyedRow[] = [];

  beforeAll(async () => {
    db = await openTestSchema('walk');
    t = tableIn(db.schema);
    for (const bucket of ['small', 'big']) {
      await db.dataSource.query(
        `INSERT INTO ${t('buckets')} (name, owner, region, created_at, versioning, replication_mode, default_storage_class, created_sequence, updated_sequence)
         VALUES ($1, 'alice', 'eu-one', now(), 'Enabled', 'local', 'STANDARD', 1, 1)`,
        [bucket],
      );
    }
    let sequence = 1;
    const keys = keysOfTheSmallBucket();
    for (const [i, key] of keys.entries()) {
      const count = 1 + (i % 3);
      for (let v = 0; v < count; v++) versionRows.push({ key, id: `v${sequence}`, sequence: sequence++ });
      for (let u = 0; u < count; u++) uploadRows.push({ key, id: `u${String(sequence).padStart(6, '0')}`, sequence: sequence++ });
    }
    await insertVersions('small', versionRows);
    await insertUploads('small', uploadRows);
    // An upload completed but not yet gone from the read model is listed nowhere.
    const completed: KeyedRow[] = [{ key: 'd/00010', id: 'u-completed-1', sequence: sequence++ }, { key: 'd/00003/f1', id: 'u-completed-2', sequence: sequence++ }];
    await insertUploads('small', completed, true);
    versionRows.sort((x, y) => compareKeys(x.key, y.key) || y.sequence - x.sequence);
    uploadRows.sort((x, y) => compareKeys(x.key, y.key) || x.sequence - y.sequence);

    const bigRows: KeyedRow[] = [];
    for (let d = 0; d < FOLDERS; d++) for (let f = 0; f < 4; f++) for (let v = 0; v < 2; v++) bigRows.push({ key: `dir${pad(d)}/file${f}`, id: `b${sequence}`, sequence: sequence++ });
    await insertVersions('big', bigRows);
    await insertUploads('big', bigRows);
    await db.dataSource.query(`ANALYZE ${t('object_versions')}`);
    await db.dataSource.query(`ANALYZE ${t('multipart_uploads')}`);
  }, 120_000);
  afterAll(() => db.drop());

  async function insertVersions(bucket: string, rows: readonly KeyedRow[]): Promise<void> {
    const newest = new Map<string, number>();
    for (const row of rows) newest.set(row.key, Math.max(newest.get(row.key) ?? 0, row.sequence));
    await db.dataSource.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, storage_class, hlc, last_modified)
       SELECT $1, md5(k) || md5(k), id, k, s, s = ANY($5::bigint[]), false, 1, md5(k), 'STANDARD', 'h', now()
       FROM unnest($2::text[], $3::text[], $4::bigint[]) AS r(k, id, s)`,
      [bucket, rows.map((r) => r.key), rows.map((r) => r.id), rows.map((r) => r.sequence), [...newest.values()]],
    );
  }

  async function insertUploads(bucket: string, rows: readonly KeyedRow[], completed = false): Promise<void> {
    await db.dataSource.query(
      `INSERT INTO ${t('multipart_uploads')} (bucket, upload_id, key, key_id, owner, initiated_at, initiated_sequence, content_type, storage_class, completed_sequence)
       SELECT $1, id, k, md5(k) || md5(k), 'alice', now(), s, 'text/plain', 'STANDARD', CASE WHEN $5 THEN s + 1 END
       FROM unnest($2::text[], $3::text[], $4::bigint[]) AS r(k, id, s)`,
      [bucket, rows.map((r) => r.key), rows.map((r) => r.id), rows.map((r) => r.sequence), completed],
    );
  }

  /** Markers to start from: none, a common prefix, a key under one, a plain key, a row inside each. */
  function startsOf(rows: readonly KeyedRow[]): { keyMarker: string | null; after: KeyedRow | null }[] {
    const inside = (key: string) => rows.filter((r) => r.key === key).at(-2) ?? rows.find((r) => r.key === key)!;
    return [
      { keyMarker: null, after: null },
      { keyMarker: 'd/00005/', after: null },
      { keyMarker: 'd/00005/f1', after: null },
      { keyMarker: 'd/00005/f1', after: inside('d/00005/f1') },
      { keyMarker: 'd/00010', after: null },
      { keyMarker: 'd/00010', after: inside('d/00010') },
      { keyMarker: 'd/00020x', after: inside('d/00020x') },
      { keyMarker: 'd/y', after: null },
    ];
  }

  const PREFIXES = ['', 'd/', 'd/000', 'd/y'];
  const PAGE_SIZES = [1, 2, 3, 7, 50, 1000];

  it('lists the same version pages as S3 would, for every prefix, page size and marker', async () => {
    const queries = new ObjectKeyQueries(db.dataSource);
    for (const prefix of PREFIXES) {
      for (const maxKeys of PAGE_SIZES) {
        for (const { keyMarker, after } of startsOf(versionRows)) {
          const result = await queries.listObjectVersions('small', { prefix, delimiter: '/', maxKeys, keyMarker: keyMarker ?? undefined, versionIdMarker: after?.id });
          const expected = referencePage(versionRows, prefix, '/', keyMarker, after, maxKeys);
          const context = JSON.stringify({ prefix, maxKeys, keyMarker, after: after?.id });
          expect({ context, entries: entriesOf(result.versions.map((v) => ({ key: v.key, id: v.versionId })), result.commonPrefixes) }).toEqual({ context, entries: expected.entries });
          expect({ context, isTruncated: result.isTruncated, nextKeyMarker: result.nextKeyMarker, nextIdMarker: result.nextVersionIdMarker }).toEqual({
            context,
            isTruncated: expected.isTruncated,
            nextKeyMarker: expected.nextKeyMarker,
            nextIdMarker: expected.nextIdMarker,
          });
        }
      }
    }
  });

  it('lists the same upload pages as S3 would, for every prefix, page size and marker', async () => {
    const queries = new MultipartUploadQueries(db.dataSource);
    for (const prefix of PREFIXES) {
      for (const maxKeys of PAGE_SIZES) {
        for (const { keyMarker, after } of startsOf(uploadRows)) {
          const result = await queries.listMultipartUploads('small', { prefix, delimiter: '/', maxKeys, keyMarker: keyMarker ?? undefined, uploadIdMarker: after?.id });
          const expected = referencePage(uploadRows, prefix, '/', keyMarker, after, maxKeys);
          const context = JSON.stringify({ prefix, maxKeys, keyMarker, after: after?.id });
          expect({ context, entries: entriesOf(result.uploads.map((u) => ({ key: u.key, id: u.uploadId })), result.commonPrefixes) }).toEqual({ context, entries: expected.entries });
          expect({ context, isTruncated: result.isTruncated, nextKeyMarker: result.nextKeyMarker, nextIdMarker: result.nextUploadIdMarker }).toEqual({
            context,
            isTruncated: expected.isTruncated,
            nextKeyMarker: expected.nextKeyMarker,
            nextIdMarker: expected.nextIdMarker,
          });
        }
      }
    }
  });

  it('lists 1,000 common prefixes of versions inside a few statements, through the index', async () => {
    const { recorder, statements } = recording(db.dataSource);
    const started = performance.now();
    const result = await new ObjectKeyQueries(recorder).listObjectVersions('big', { delimiter: '/', maxKeys: 1000 });
    const elapsedMs = performance.now() - started;
    expect(result.commonPrefixes).toEqual(Array.from({ length: 1000 }, (_, d) => `dir${pad(d)}/`));
    expect(result).toMatchObject({ versions: [], isTruncated: true, nextKeyMarker: `dir${pad(999)}/` });
    process.stdout.write(`ListObjectVersions, 1,000 common prefixes: ${statements.length} statements, ${elapsedMs.toFixed(1)} ms\n`);
    await expectBoundedWalks(db.dataSource, statements, 'object_versions');
  });

  it('lists 1,000 common prefixes of uploads inside a few statements, through the index', async () => {
    const { recorder, statements } = recording(db.dataSource);
    const started = performance.now();
    const result = await new MultipartUploadQueries(recorder).listMultipartUploads('big', { delimiter: '/', maxKeys: 1000, keyMarker: `dir${pad(99)}/` });
    const elapsedMs = performance.now() - started;
    expect(result.commonPrefixes).toEqual(Array.from({ length: 1000 }, (_, d) => `dir${pad(d + 100)}/`));
    expect(result).toMatchObject({ uploads: [], isTruncated: true, nextKeyMarker: `dir${pad(1099)}/` });
    process.stdout.write(`ListMultipartUploads, 1,000 common prefixes: ${statements.length} statements, ${elapsedMs.toFixed(1)} ms\n`);
    await expectBoundedWalks(db.dataSource, statements, 'multipart_uploads');
  });
});
