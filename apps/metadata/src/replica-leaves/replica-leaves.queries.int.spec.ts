import type { ReplicaLeaf } from '@cairn/protocol';
import type { DataSource } from 'typeorm';
import { tableIn } from '../adapters/metadata-schema';
import { MetadataError } from '../domain/shared/metadata.errors';
import { openTestSchema } from '../testing/test-database';
import { replicaLeafRange } from './replica-leaves-request';
import { ReplicaLeafQueries } from './replica-leaves.queries';

const KEYS = 20_000;
const CHECKPOINT_NAME = 'metadata';
/** A page of 1000 leaves off the primary key takes a few ms here; a scan of the table far longer. */
const PAGE_MAX_MS = 500;

type PlanNode = { 'Node Type': string; 'Index Name'?: string; Plans?: PlanNode[] };
const nodesOf = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];

/**
 * replication.leaves on a read model of 20,000 keys in bucket 'b' (every 7th with a second version,
 * every 11th's newest a delete marker) and a few in bucket 'other': filled by SQL, not by projecting
 * events, so paging, prefixes and the plan are checked at size.
 */
describe('replica leaves query (Postgres, 20k keys)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  let queries: ReplicaLeafQueries;
  let all: ReplicaLeaf[];

  beforeAll(async () => {
    db = await openTestSchema('leaves');
    queries = new ReplicaLeafQueries(db.dataSource);
    const t = tableIn(db.schema);
    const keyId = `encode(sha256(convert_to('k' || i, 'UTF8')), 'hex')`;
    await db.dataSource.query(
      `INSERT INTO ${t('object_versions')} (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, hlc, last_modified)
       SELECT 'b', ${keyId}, 'v1', 'k' || i, i, NOT (i % 7 = 0 OR i % 11 = 0), false, 1, md5('k' || i), 'h', now() FROM generate_series(1, $1) AS i
       UNION ALL
       SELECT 'b', ${keyId}, 'v2', 'k' || i, $1 + i, true, false, 1, md5('again' || i), 'h', now() FROM generate_series(1, $1) AS i WHERE i % 7 = 0 AND i % 11 <> 0
       UNION ALL
       SELECT 'b', ${keyId}, 'm3', 'k' || i, 2 * $1 + i, true, true, 0, NULL, 'h', now() FROM generate_series(1, $1) AS i WHERE i % 11 = 0
       UNION ALL
       SELECT 'other', ${keyId}, 'v1', 'k' || i, 3 * $1 + i, true, false, 1, 'e', 'h', now() FROM generate_series(1, 50) AS i`,
      [KEYS],
    );
    await db.dataSource.query(`INSERT INTO ${t('projection_checkpoints')} (projection, sequence) VALUES ($1, 77)`, [CHECKPOINT_NAME]);
    await db.dataSource.query(`ANALYZE ${t('object_versions')}`);
    const rows: { key_id: string; key: string; version_id: string; etag: string | null; is_delete_marker: boolean }[] = await db.dataSource.query(
      `SELECT key_id, key, version_id, etag, is_delete_marker FROM ${t('object_versions')} WHERE bucket = 'b'`,
    );
    const bytes = (s: string) => Buffer.from(s, 'utf8');
    all = rows
      .map((r) => ({ keyId: r.key_id, key: r.key, versionId: r.version_id, etag: r.etag, deleted: r.is_delete_marker }))
      .sort((x, y) => Buffer.compare(bytes(x.keyId), bytes(y.keyId)) || Buffer.compare(bytes(x.versionId), bytes(y.versionId)));
  }, 120_000);

  afterAll(async () => {
    await db?.drop();
  });

  async function everyPage(request: Record<string, unknown>): Promise<{ leaves: ReplicaLeaf[]; pages: number }> {
    const leaves: ReplicaLeaf[] = [];
    let after: unknown = undefined;
    let pages = 0;
    for (;;) {
      const page = await queries.listReplicaLeaves(replicaLeafRange({ ...request, ...(after ? { after } : {}) }), CHECKPOINT_NAME);
      pages += 1;
      expect(page.asOfSequence).toBe(77);
      leaves.push(...page.leaves);
      if (!page.next) return { leaves, pages };
      expect(page.next).toEqual({ keyId: page.leaves.at(-1)!.keyId, versionId: page.leaves.at(-1)!.versionId });
      after = page.next;
    }
  }

  it('pages through every version and delete marker of the bucket in (keyId, versionId) byte order, each once', async () => {
    const { leaves, pages } = await everyPage({ bucket: 'b', limit: 1000 });
    expect(leaves).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 1000));
    expect(leaves.filter((l) => l.deleted).every((l) => l.etag === null && l.versionId === 'm3')).toBe(true);
    expect(new Set(leaves.map((l) => l.keyId)).size).toBe(KEYS);
  });

  it('a key-id prefix is exactly the keys whose id starts with it, paged too (pages may split a key’s versions)', async () => {
    for (const prefix of ['', '0', 'a7', 'fff', 'c3d4']) {
      const { leaves } = await everyPage({ bucket: 'b', keyIdPrefix: prefix, limit: prefix.length ? 7 : 500 });
      expect(leaves).toEqual(all.filter((l) => l.keyId.startsWith(prefix)));
    }
    const one = all[123];
    expect((await everyPage({ bucket: 'b', keyIdPrefix: one.keyId })).leaves).toEqual(all.filter((l) => l.keyId === one.keyId));
  });

  it('afterKeyId skips every version of that key and those before it', async () => {
    const multi = all.findIndex((l, i) => i > 100 && all[i + 1]?.keyId === l.keyId);
    const keyId = all[multi].keyId;
    const page = await queries.listReplicaLeaves(replicaLeafRange({ bucket: 'b', afterKeyId: keyId, limit: 5 }), CHECKPOINT_NAME);
    expect(page.leaves).toEqual(all.filter((l) => l.keyId > keyId).slice(0, 5));
  });

  it('another bucket and an unknown bucket are their own', async () => {
    expect((await everyPage({ bucket: 'other' })).leaves).toHaveLength(50);
    expect((await everyPage({ bucket: 'nope' })).leaves).toEqual([]);
  });

  it('a page is read off the primary key, not by scanning the bucket', async () => {
    const t = tableIn(db.schema);
    const mid = all[all.length / 2];
    const [{ 'QUERY PLAN': [{ Plan: plan }] }] = await db.dataSource.query(
      `EXPLAIN (FORMAT JSON) SELECT key_id, key, version_id, etag, is_delete_marker FROM ${t('object_versions')}
       WHERE bucket = $1 AND key_id BETWEEN $2::char(64) AND $3::char(64) AND (key_id, version_id) > ($4::char(64), $5)
       ORDER BY key_id, version_id LIMIT 1001`,
      ['b', '0'.repeat(64), 'f'.repeat(64), mid.keyId, mid.versionId],
    );
    const nodes = nodesOf(plan as PlanNode);
    expect(nodes.some((n) => n['Node Type'] === 'Seq Scan')).toBe(false);
    expect(nodes.some((n) => n['Node Type'] === 'Sort')).toBe(false);
    const started = performance.now();
    await queries.listReplicaLeaves(replicaLeafRange({ bucket: 'b', after: { keyId: mid.keyId, versionId: mid.versionId } }), CHECKPOINT_NAME);
    expect(performance.now() - started).toBeLessThan(PAGE_MAX_MS);
  });

  it('refuses requests outside the documented shape with InvalidArgument', () => {
    const bad = [
      null,
      {},
      { bucket: '' },
      { bucket: 'b', keyIdPrefix: 'ABC' },
      { bucket: 'b', keyIdPrefix: 'g' },
      { bucket: 'b', keyIdPrefix: '0'.repeat(65) },
      { bucket: 'b', limit: 0 },
      { bucket: 'b', limit: 10_001 },
      { bucket: 'b', limit: 1.5 },
      { bucket: 'b', after: { keyId: 'abc', versionId: 'v' } },
      { bucket: 'b', after: { keyId: '0'.repeat(64) } },
      { bucket: 'b', after: { keyId: '0'.repeat(64), versionId: 'v', key: 'x' } },
      { bucket: 'b', afterKey: 'k1' },
      { bucket: 'b', afterKeyId: 'abc' },
      { bucket: 'b', afterKeyId: '0'.repeat(64), after: { keyId: '0'.repeat(64), versionId: 'v' } },
    ];
    for (const request of bad) {
      let error: unknown;
      try {
        replicaLeafRange(request);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MetadataError);
      expect((error as MetadataError).code).toBe('InvalidArgument');
    }
    expect(replicaLeafRange({ bucket: 'b', keyIdPrefix: null, limit: undefined })).toEqual({ bucket: 'b', keyIdPrefix: '', after: null, afterKeyId: null, limit: 1000 });
  });
});
