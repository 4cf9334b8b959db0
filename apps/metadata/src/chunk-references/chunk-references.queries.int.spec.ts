import { DEFAULT_REPLICATION_FACTOR, replicationFactorOf, type ChunkReference } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { openTestSchema } from '../testing/test-database';
import { chunkReferencePageQuery, ChunkReferenceQueries, type ChunkReferenceRange } from './chunk-references.queries';
import { tableIn } from '../adapters/metadata-schema';

const VERSIONS = 40_000;
const CHUNKS_PER_VERSION = 2;
/** Version chunk i names hash i mod this: a share of the hashes is named by two versions. */
const DISTINCT_VERSION_HASHES = 60_000;
const UPLOADS = 1000;
const PARTS_PER_UPLOAD = 20;
const CHUNKS_PER_PART = 2;
const PAGE_CHUNKS = 1000;
const CHECKPOINT_NAME = 'metadata';
/** Generous for a 1000-hash page off the indexes (a few ms here); a scan of the tables takes far longer. */
const PAGE_PLAN_MAX_MS = 500;

type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Relation Name'?: string; Plans?: PlanNode[] };

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * The chunk-reference page query on a read model of ~120k chunk rows: filled by SQL, not by
 * projecting events (the service test covers the projection), so the plan is checked at size.
 */
describe('chunk references query (Postgres, ~120k chunk rows)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: ChunkReferenceQueries;
  let t: (table: string) => string;
  let expected: ChunkReference[];

  beforeAll(async () => {
    db = await openTestSchema('chunkrefs');
    queries = new ChunkReferenceQueries(db.dataSource);
    t = tableIn(db.schema);
    const hashOf = (n: string) => `encode(sha256(convert_to(${n}::text, 'UTF8')), 'hex')`;
    await db.dataSource.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, storage_class, hlc, last_modified)
       SELECT 'b', ${hashOf('i')}, 'v', 'k' || i, i, true, false, 1, 'e', CASE WHEN i % 10 = 0 THEN 'REDUCED_REDUNDANCY' ELSE 'STANDARD' END, 'h', now()
       FROM generate_series(1, $1) AS i`,
      [VERSIONS],
    );
    // Chunk i of version v: hash (v * CHUNKS_PER_VERSION + i) mod DISTINCT_VERSION_HASHES; every 50th version's chunks inline.
    await db.dataSource.query(
      `INSERT INTO ${t('object_version_chunks')} (bucket, key_id, version_id, ordinal, chunk_hash, offset_bytes, size_bytes, inline_data)
       SELECT 'b', ${hashOf('v')}, 'v', o, ${hashOf(`'c' || ((v * $2 + o) % $3)`)}, 0, 100, CASE WHEN v % 50 = 0 THEN '\\x00'::bytea END
       FROM generate_series(1, $1) AS v, generate_series(0, $2 - 1) AS o`,
      [VERSIONS, CHUNKS_PER_VERSION, DISTINCT_VERSION_HASHES],
    );
    await db.dataSource.query(
      `INSERT INTO ${t('multipart_uploads')} (bucket, upload_id, key, key_id, owner, initiated_at, initiated_sequence, content_type, storage_class)
       SELECT 'b', 'u' || u, 'k', ${hashOf('u')}, 'o', now(), u, 't', CASE WHEN u % 2 = 0 THEN 'REDUCED_REDUNDANCY' ELSE 'STANDARD_IA' END FROM generate_series(1, $1) AS u`,
      [UPLOADS],
    );
    await db.dataSource.query(
      `INSERT INTO ${t('multipart_parts')} (bucket, upload_id, part_number, etag, size_bytes, last_modified)
       SELECT 'b', 'u' || u, p, repeat('0', 32), 1, now() FROM generate_series(1, $1) AS u, generate_series(1, $2) AS p`,
      [UPLOADS, PARTS_PER_UPLOAD],
    );
    // Half the part chunks name hashes versions name too (the c… ones), half their own (the p… ones).
    await db.dataSource.query(
      `INSERT INTO ${t('multipart_part_chunks')} (bucket, upload_id, part_number, ordinal, chunk_hash, offset_bytes, size_bytes)
       SELECT 'b', 'u' || u, p, o, ${hashOf(`CASE WHEN o = 0 THEN 'c' || (u * 50 + p) ELSE 'p' || u || '.' || p END`)}, 0, 100
       FROM generate_series(1, $1) AS u, generate_series(1, $2) AS p, generate_series(0, $3 - 1) AS o`,
      [UPLOADS, PARTS_PER_UPLOAD, CHUNKS_PER_PART],
    );
    await db.dataSource.query(`INSERT INTO ${t('projection_checkpoints')} (projection, sequence) VALUES ($1, 42)`, [CHECKPOINT_NAME]);
    await db.dataSource.query(`ANALYZE ${['object_versions', 'object_version_chunks', 'multipart_uploads', 'multipart_part_chunks'].map(t).join(', ')}`);
    expected = await everyReference();
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  /** The answer the slow obvious way: every reference, grouped in JavaScript. */
  async function everyReference(regionReplicationFactor = DEFAULT_REPLICATION_FACTOR): Promise<ChunkReference[]> {
    const rows: { hash: string; size: string; storage_class: string | null }[] = await db.dataSource.query(
      `SELECT c.chunk_hash AS hash, c.size_bytes AS size, v.storage_class FROM ${t('object_version_chunks')} c
         JOIN ${t('object_versions')} v USING (bucket, key_id, version_id) WHERE c.inline_data IS NULL
       UNION ALL
       SELECT c.chunk_hash, c.size_bytes, u.storage_class FROM ${t('multipart_part_chunks')} c
         JOIN ${t('multipart_uploads')} u USING (bucket, upload_id) WHERE c.inline_data IS NULL`,
    );
    const byHash = new Map<string, ChunkReference>();
    for (const r of rows) {
      const seen = byHash.get(r.hash);
      const rf = Math.max(seen?.replicationFactor ?? 0, replicationFactorOf(r.storage_class, regionReplicationFactor));
      byHash.set(r.hash, { hash: r.hash, sizeBytes: Number(r.size), replicationFactor: rf });
    }
    return [...byHash.values()].sort((x, y) => (x.hash < y.hash ? -1 : 1));
  }

  it('pages through every referenced hash once, in byte order, each with the highest replication factor naming it', async () => {
    const got: ChunkReference[] = [];
    let after = '';
    for (;;) {
      const page = await queries.listChunkReferences({ after, before: null, limit: 5_000 }, CHECKPOINT_NAME, DEFAULT_REPLICATION_FACTOR);
      expect(page.asOfSequence).toBe(42);
      got.push(...page.chunks);
      if (page.nextAfter === null) break;
      expect(page.nextAfter).toBe(page.chunks.at(-1)?.hash);
      after = page.nextAfter;
    }
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    // Both classes and both tables are represented, so the comparison means something.
    expect(new Set(got.map((c) => c.replicationFactor))).toEqual(new Set([2, 3]));
  });

  it("gives each chunk its classes' copies at the region's replication factor: one each at rf 1, STANDARD's five at rf 5", async () => {
    const range: ChunkReferenceRange = { after: '', before: '1', limit: 10_000 };
    for (const rf of [1, 5]) {
      const page = await queries.listChunkReferences(range, CHECKPOINT_NAME, rf);
      expect(page.chunks).toEqual((await everyReference(rf)).filter((c) => c.hash < '1'));
      expect(new Set(page.chunks.map((c) => c.replicationFactor))).toEqual(rf === 1 ? new Set([1]) : new Set([2, 5]));
    }
  });

  it('keeps to the range below `before`, a hash prefix bounding its whole range', async () => {
    const inRange = expected.filter((c) => c.hash > '4'.repeat(64) && c.hash < '5');
    const page = await queries.listChunkReferences({ after: '4'.repeat(64), before: '5', limit: 10_000 }, CHECKPOINT_NAME, DEFAULT_REPLICATION_FACTOR);
    expect(page.chunks).toEqual(inRange);
    expect(page.nextAfter).toBeNull();
    const empty = await queries.listChunkReferences({ after: 'f'.repeat(64), before: null, limit: 10 }, CHECKPOINT_NAME, DEFAULT_REPLICATION_FACTOR);
    expect(empty).toEqual({ chunks: [], nextAfter: null, asOfSequence: 42 });
  });

  it('reads a page off both chunk_hash indexes, never scanning a chunk table', async () => {
    const range: ChunkReferenceRange = { after: '8'.repeat(64), before: null, limit: PAGE_CHUNKS };
    const { sql, params } = chunkReferencePageQuery(t, range);
    const [{ 'QUERY PLAN': [explained] }]: { 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }[] = await db.dataSource.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
      params,
    );
    const nodes = nodesOf(explained.Plan);
    const indexes = new Set(nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])));
    expect([...indexes]).toEqual(expect.arrayContaining(['object_version_chunks_hash_idx', 'multipart_part_chunks_hash_idx']));
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan' && /chunks$/.test(n['Relation Name'] ?? ''))).toEqual([]);
    expect(explained['Execution Time']).toBeLessThan(PAGE_PLAN_MAX_MS);
  });
});
