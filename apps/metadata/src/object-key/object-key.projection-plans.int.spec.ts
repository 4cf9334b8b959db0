import type { DataSource } from 'typeorm';
import { MetadataProjector } from '../projections/metadata-projector';
import { MetadataWorld } from '../testing/metadata-world';
import { openTestSchema } from '../testing/test-database';
import { demoteCurrentOfKeysSql, dropVersionOfKeysSql } from './object-key.projection';

/**
 * The projection's many-keys statements must reach each key through the primary key: a plan that
 * cannot (key_id compared as text) scans the whole bucket per key, so projecting new keys slowed
 * down as the bucket grew.
 */
const BULK_KEYS = 20_000;

describe('the object-key projection’s statements over many keys (Postgres plans)', () => {
  let db: { dataSource: DataSource; schema: string; drop: () => Promise<void> };
  const world = new MetadataWorld();
  let keyIds: string[];

  beforeAll(async () => {
    db = await openTestSchema('key-plans');
    await world.createBucket('plans');
    for (let i = 0; i < 20; i++) await world.put('plans', `k${i}`, `body ${i}`);
    await new MetadataProjector(db.dataSource).project(world.store.all());
    keyIds = ((await db.dataSource.query(`SELECT key_id FROM "${db.schema}"."object_versions" WHERE bucket = 'plans'`)) as { key_id: string }[]).map((r) => r.key_id);
    // A bucket of some size beside them, so that the planner weighs an index against a scan as it would in use.
    await db.dataSource.query(
      `INSERT INTO "${db.schema}"."object_versions" (bucket, key_id, version_id, key, sequence, is_current, is_delete_marker, size_bytes, etag, storage_class, hlc, last_modified)
       SELECT 'plans', encode(sha256(convert_to('bulk/' || g, 'UTF8')), 'hex'), 'null', 'bulk/' || g, 1000 + g, true, false, 1, md5(g::text), 'STANDARD', '000000000000-0000', now()
       FROM generate_series(1, ${BULK_KEYS}) AS g`,
    );
    await db.dataSource.query(`ANALYZE "${db.schema}"."object_versions"`);
  });
  afterAll(() => db.drop());

  /** Runs `work` in a transaction that is rolled back: the table stays as projected. */
  async function rolledBack<T>(work: (query: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<T>): Promise<T> {
    const runner = db.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      return await work((sql, params) => runner.query(sql, params) as Promise<unknown[]>);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  const planOf = (sql: string, params: unknown[]) =>
    rolledBack(async (query) => {
      return ((await query(`EXPLAIN ${sql}`, params)) as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
    });

  it.each([
    ['dropping a version of each key', () => dropVersionOfKeysSql(`"${db.schema}"."object_versions"`), () => [keyIds.map(() => 'plans'), keyIds, 'null']],
    ['demoting the current version of each key', () => demoteCurrentOfKeysSql(`"${db.schema}"."object_versions"`), () => [keyIds.map(() => 'plans'), keyIds]],
  ])('%s finds each key by the primary key', async (_what, sql, params) => {
    const plan = await planOf(sql(), params());
    expect(plan).toMatch(/Index Cond: \(.*key_id = k\.key_id/);
    expect(plan).not.toContain('(key_id)::text');
  });

  it('still does what it says', async () => {
    const versions = `"${db.schema}"."object_versions"`;
    await rolledBack(async (query) => {
      await query(demoteCurrentOfKeysSql(versions), [['plans'], [keyIds[0]]]);
      expect(await query(`SELECT is_current FROM ${versions} WHERE bucket = 'plans' AND key_id = $1`, [keyIds[0]])).toEqual([{ is_current: false }]);
      await query(dropVersionOfKeysSql(versions), [['plans'], [keyIds[0]], 'null']);
      expect(await query(`SELECT 1 FROM ${versions} WHERE bucket = 'plans' AND key_id = $1`, [keyIds[0]])).toEqual([]);
    });
  });
});
