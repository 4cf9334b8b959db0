import { decodeHlc, encodeHlc, keyIdOf } from '@cairn/hashing';
import { JetStreamEventStore, RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataEventSchemaVersions, MetadataRpc, subjectsFor } from '@cairn/protocol';
import type {
  ApplyReplicatedReply,
  BucketView,
  ConflictResolved,
  ConflictSide,
  CreateBucketReply,
  EventEnvelope,
  ListConflictsReply,
  ObjectVersionData,
  ProjectionStatusReply,
  PutObjectReply,
} from '@cairn/protocol';
import { PostgresConnection, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, testNamespace, testOperatorToken } from '@cairn/testing';
import type { MetadataConfig } from '../metadata.config';
import { MetadataService } from '../service';
import { body, codeOf, RPC_TIMEOUT_MS } from '../testing/rpc-test-helpers';

const BUCKET = 'shared-photos';
const DAY = '2026-11-20';
/** Resolution times of the conflicts the tests publish, in the order published (not the order resolved). */
const RESOLVED_AT = [`${DAY}T10:00:03.000Z`, `${DAY}T10:00:01.000Z`, `${DAY}T10:00:02.000Z`, `${DAY}T11:00:00.000Z`, `${DAY}T10:00:02.000Z`];

const side = (versionId: string, region: string, hlc: string, kind: ConflictSide['kind'] = 'version'): ConflictSide => ({ versionId, region, hlc, kind });

/**
 * The conflict log (ConflictResolved → conflict_log → MetadataRpc.listConflicts and
 * GET /admin/buckets/:name/conflicts) and PUT /admin/buckets/:name/replication, on one real
 * metadata instance: events published to the namespace's META stream through the real event store.
 */
describe('conflict log and replication admin (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  let service: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  let store: JetStreamEventStore;
  let incarnation = 0;
  let published = 0;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
  const ADMIN = testOperatorToken('admin');
  const READ_ONLY = testOperatorToken('read-only');
  const http = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  const put = (path: string, body: unknown, token = ADMIN) =>
    http(path, token, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  /** A ConflictResolved of `key` as a region's metadata would append it: on the key's subject, its own event id. */
  async function publishConflict(
    conflictId: string,
    key: string,
    resolvedAt: string,
    options: { readonly eventId?: string; readonly region?: string; readonly incarnation?: number; readonly bucket?: string } = {},
  ): Promise<number> {
    const bucket = options.bucket ?? BUCKET;
    const region = options.region ?? 'region-1';
    const data: ConflictResolved['data'] = {
      bucket,
      key,
      keyId: keyIdOf(key),
      incarnation: options.incarnation ?? incarnation,
      conflictId,
      winner: side(`w-${conflictId}`, 'region-2', `0000000002-0000-region-2`),
      loser: side(`l-${conflictId}`, 'region-1', `0000000001-0000-region-1`, conflictId.endsWith('d') ? 'delete' : 'version'),
      loserVersionId: conflictId.endsWith('d') ? null : `l-${conflictId}`,
      resolvedAt,
    };
    const envelope: EventEnvelope = {
      id: options.eventId ?? `conflict-${ns}-${++published}`,
      type: 'ConflictResolved',
      schemaVersion: MetadataEventSchemaVersions.ConflictResolved,
      aggregateId: `${bucket}/${data.keyId}`,
      region,
      hlc: `0000000003-0000-${region}`,
      causationId: null,
      correlationId: null,
      occurredAt: resolvedAt,
      data,
    };
    return store.publish(subjectsFor(ns).object(bucket, data.keyId), envelope);
  }

  const list = (request: Record<string, unknown>) => call<ListConflictsReply>(MetadataRpc.listConflicts, { bucket: BUCKET, ...request });

  /** The conflict_log rows of BUCKET (of every bucket with `every`). */
  async function conflictRows(every = false): Promise<unknown[]> {
    const ds = await service.app.get(PostgresConnection).ready();
    const schema = (ds.options as { schema: string }).schema;
    const table = `"${schema}"."conflict_log"`;
    return every ? ds.query(`SELECT * FROM ${table} ORDER BY bucket, conflict_id`) : ds.query(`SELECT * FROM ${table} WHERE bucket = $1 ORDER BY conflict_id`, [BUCKET]);
  }

  beforeAll(async () => {
    service = await bootForTest(MetadataService, ns, { CAIRN_ROOT_ACCESS_KEY: 'CAIRNTESTROOTKEY0007', CAIRN_ROOT_SECRET_KEY: 'test-root-secret-key-0000000000' });
    await service.transport.started;
    rpc = service.app.get(RpcClient);
    store = service.app.get(JetStreamEventStore);
    const created = await call<CreateBucketReply>(MetadataRpc.createBucket, { bucket: BUCKET, owner: 'alice', versioningEnabled: true });
    incarnation = created.sequence;
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await dropNamespace(ns);
  }, 60_000);

  it('lists each conflict once, oldest resolution first, even when it is recorded again (another region, a replay)', async () => {
    const ids = ['c-a', 'c-b', 'c-c', 'c-dd', 'c-e'];
    for (const [i, id] of ids.entries()) await publishConflict(id, `photos/${i}.jpg`, RESOLVED_AT[i]);
    // The same conflict as the other region resolved it (same id, its own event, a later time),
    // and the very same event again (a retried append is stored once by its id).
    await publishConflict('c-b', 'photos/1.jpg', `${DAY}T12:00:00.000Z`, { region: 'region-2' });
    await publishConflict('c-a', 'photos/0.jpg', RESOLVED_AT[0], { eventId: `conflict-${ns}-1` });
    const last = await publishConflict('c-f', 'photos/5.jpg', `${DAY}T09:00:00.000Z`);

    // minSequence: the answer includes everything up to that sequence, with no waiting by the caller.
    const all = await list({ minSequence: last });
    expect(all.conflicts.map((c) => c.conflictId)).toEqual(['c-f', 'c-b', 'c-c', 'c-e', 'c-a', 'c-dd']);
    expect(all.nextAfter).toBeNull();
    expect(all.conflicts.find((c) => c.conflictId === 'c-b')).toEqual({
      conflictId: 'c-b',
      bucket: BUCKET,
      key: 'photos/1.jpg',
      winner: side('w-c-b', 'region-2', '0000000002-0000-region-2'),
      loser: side('l-c-b', 'region-1', '0000000001-0000-region-1'),
      loserVersionId: 'l-c-b',
      // The first record of the conflict stays: the later one from region-2 changed nothing.
      resolvedAt: `${DAY}T10:00:01.000Z`,
    });
    expect(all.conflicts.find((c) => c.conflictId === 'c-dd')).toMatchObject({ loser: { kind: 'delete' }, loserVersionId: null });
    expect(await conflictRows()).toHaveLength(6);
  });

  it('filters on the resolution time (since inclusive, until exclusive) and pages with after', async () => {
    const window = await list({ since: `${DAY}T10:00:02Z`, until: `${DAY}T11:00:00.000Z` });
    expect(window.conflicts.map((c) => [c.conflictId, c.resolvedAt])).toEqual([
      ['c-c', `${DAY}T10:00:02.000Z`],
      ['c-e', `${DAY}T10:00:02.000Z`],
      ['c-a', `${DAY}T10:00:03.000Z`],
    ]);
    // A date alone is midnight UTC; an offset is honoured.
    expect((await list({ since: '2026-11-21' })).conflicts).toEqual([]);
    expect((await list({ until: `${DAY}T11:00:00+01:00` })).conflicts.map((c) => c.conflictId)).toEqual(['c-f']);

    const pages: string[][] = [];
    let after: string | null | undefined;
    do {
      const page: ListConflictsReply = await list({ limit: 2, ...(after ? { after } : {}) });
      pages.push(page.conflicts.map((c) => c.conflictId));
      after = page.nextAfter;
    } while (after);
    // Two conflicts resolved at the same instant (c-c, c-e) are split across pages without loss.
    expect(pages).toEqual([
      ['c-f', 'c-b'],
      ['c-c', 'c-e'],
      ['c-a', 'c-dd'],
    ]);
    const filteredPage = await list({ since: `${DAY}T10:00:02Z`, limit: 1, after: 'c-c' });
    expect([filteredPage.conflicts.map((c) => c.conflictId), filteredPage.nextAfter]).toEqual([['c-e'], 'c-e']);
  });

  it('refuses bad filters with InvalidArgument and an unknown bucket with NoSuchBucket', async () => {
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { limit: '10' }, { since: 'yesterday' }, { until: '2026-02-31T00:00:00Z' }, { since: '2026-11-20T10:00:00' }, { after: 'no-such-conflict' }, { after: 7 }]) {
      expect({ bad, code: await codeOf(list(bad)) }).toEqual({ bad, code: 'InvalidArgument' });
    }
    expect(await codeOf(call(MetadataRpc.listConflicts, { bucket: 'never-made' }))).toBe('NoSuchBucket');
    expect(await codeOf(call(MetadataRpc.listConflicts, { bucket: 'Not A Bucket >' }))).toBe('NoSuchBucket');
    expect(await codeOf(call(MetadataRpc.listConflicts, null))).toBe('InvalidRequest');
  });

  it('serves the conflict log over HTTP to read-only and admin tokens, with clear 4xx for bad input', async () => {
    const res = await http(`/admin/buckets/${BUCKET}/conflicts?since=${encodeURIComponent(`${DAY}T10:00:02Z`)}&limit=2`, READ_ONLY);
    expect(res.status).toBe(200);
    const page = (await res.json()) as ListConflictsReply;
    expect([page.conflicts.map((c) => c.conflictId), page.nextAfter]).toEqual([['c-c', 'c-e'], 'c-e']);
    const next = (await (await http(`/admin/buckets/${BUCKET}/conflicts?after=c-e&until=${encodeURIComponent(`${DAY}T11:00:00Z`)}`, ADMIN)).json()) as ListConflictsReply;
    expect(next.conflicts.map((c) => c.conflictId)).toEqual(['c-a']);

    const refused = async (path: string) => {
      const r = await http(path, ADMIN);
      return { path, status: r.status, code: ((await r.json()) as { code: string }).code };
    };
    for (const query of ['limit=0', 'limit=1001', 'limit=ten', 'since=yesterday', 'until=2026-13-01', 'after=nope', 'color=blue']) {
      const { status, code } = await refused(`/admin/buckets/${BUCKET}/conflicts?${query}`);
      expect({ query, status, code: ['InvalidArgument', 'INVALID_COMMAND'].includes(code) }).toEqual({ query, status: 400, code: true });
    }
    expect(await refused('/admin/buckets/never-made/conflicts')).toMatchObject({ status: 404, code: 'NoSuchBucket' });
    expect((await fetch(`${service.url}/admin/buckets/${BUCKET}/conflicts`)).status).toBe(401);
  });

  it("sets a bucket's replication over HTTP (admin only) and answers the bucket; refuses bad bodies with 4xx", async () => {
    const path = `/admin/buckets/${BUCKET}/replication`;
    const set = async (body: unknown, token = ADMIN) => {
      const r = await put(path, body, token);
      return { status: r.status, body: (await r.json()) as BucketView & { code?: string; message?: string } };
    };
    const passive = await set({ mode: 'active-passive', homeRegion: 'region-2' });
    expect(passive.status).toBe(200);
    expect(passive.body).toMatchObject({ name: BUCKET, owner: 'alice', replication: { mode: 'active-passive', homeRegion: 'region-2' } });
    // The same setting again changes nothing and answers the same.
    expect((await set({ mode: 'active-passive', homeRegion: 'region-2' })).body.replication).toEqual({ mode: 'active-passive', homeRegion: 'region-2' });
    expect((await set({ mode: 'active-active' })).body.replication).toEqual({ mode: 'active-active' });
    const history = await store.read(subjectsFor(ns).bucket(BUCKET));
    expect(history.events.filter((e) => e.envelope.type === 'BucketReplicationChanged').map((e) => e.envelope.data)).toEqual([
      { bucket: BUCKET, replication: { mode: 'active-passive', homeRegion: 'region-2' } },
      { bucket: BUCKET, replication: { mode: 'active-active' } },
    ]);

    const bad: [unknown, RegExp][] = [
      [{ mode: 'active-passive' }, /homeRegion is required for mode active-passive/],
      [{ mode: 'local', homeRegion: 'region-2' }, /homeRegion is only for mode active-passive/],
      [{ mode: 'active-active', homeRegion: 'region-2' }, /homeRegion is only for mode active-passive/],
      [{ mode: 'active-passive', homeRegion: 'Region_2' }, /region id/],
      [{ mode: 'active-passive', homeRegion: 7 }, /region id/],
      [{ mode: 'everywhere' }, /mode must be one of/],
      [{}, /mode must be one of/],
      [{ mode: 'local', extra: true }, /extra should not exist/],
      ['not json', /./],
      [[{ mode: 'local' }], /./],
    ];
    for (const [body, message] of bad) {
      const r = await set(body);
      expect({ body, status: r.status, message: r.body.message }).toEqual({ body, status: 400, message: expect.stringMatching(message) });
    }
    expect((await set({ mode: 'local' }, READ_ONLY)).status).toBe(403);
    expect((await put('/admin/buckets/never-made/replication', { mode: 'local' })).status).toBe(404);
    expect((await put('/admin/buckets/Bad%20Name!/replication', { mode: 'local' })).status).toBe(400);
    const local = await set({ mode: 'local' });
    expect([local.status, local.body.replication]).toEqual([200, { mode: 'local' }]);

    const doc = (await (await fetch(`${service.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { parameters?: { name: string }[] }>> };
    expect(Object.keys(doc.paths['/admin/buckets/{name}/replication'])).toEqual(['put']);
    expect(doc.paths['/admin/buckets/{name}/conflicts']['get'].parameters?.map((p) => p.name).sort()).toEqual(['after', 'limit', 'name', 'since', 'until']);
  });

  it("logs, once, the conflict metadata resolves when another region's concurrent put of a key arrives (MetadataRpc.applyReplicated)", async () => {
    const bucket = 'meeting-notes';
    await call(MetadataRpc.createBucket, { bucket, owner: 'alice', versioningEnabled: true });
    await call(MetadataRpc.setBucketReplication, { bucket, replication: { mode: 'active-active' } });
    const mine = await call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body('agenda.txt', 'written here') });
    // The same key, written in region-2 without having seen this region's version: a concurrent change.
    const [local] = (await store.read(subjectsFor(ns).object(bucket, keyIdOf('agenda.txt')))).events;
    const localData = local.envelope.data as ObjectVersionData;
    const later = decodeHlc(localData.hlc);
    const hlc = encodeHlc({ wallMs: later.wallMs + 1, logical: 0 });
    const theirs: EventEnvelope = {
      ...local.envelope,
      id: `region-2-${ns}-agenda`,
      region: 'region-2',
      hlc,
      data: { ...localData, versionId: 'region-2-version', hlc, region: 'region-2', vector: { 'region-2': 1 } },
    };
    const apply = () => call<ApplyReplicatedReply>(MetadataRpc.applyReplicated, { sourceRegion: 'region-2', sourceSequence: 7, envelope: theirs });
    const applied = await apply();
    expect(applied).toMatchObject({ applied: true, conflictId: expect.any(String) });
    const again = await apply();
    expect(again.applied).toBe(false);

    const logged = await call<ListConflictsReply>(MetadataRpc.listConflicts, { bucket, minSequence: Math.max(applied.sequence, again.sequence) });
    expect(logged.conflicts).toEqual([
      {
        conflictId: applied.conflictId,
        bucket,
        key: 'agenda.txt',
        // The later HLC wins in every region; this region's version is kept below it.
        winner: expect.objectContaining({ versionId: 'region-2-version', region: 'region-2', hlc }),
        loser: expect.objectContaining({ versionId: mine.versionId, region: 'region-1' }),
        loserVersionId: mine.versionId,
        resolvedAt: expect.any(String),
      },
    ]);
  });

  it('rebuilds the conflict log from the stream into exactly the rows it had', async () => {
    await eventually(async () => {
      const s = await call<ProjectionStatusReply>(MetadataRpc.projectionStatus, {});
      return s.streams.every((x) => x.lag === 0) ? s : undefined;
    });
    const before = await conflictRows(true);
    const listed = await list({});
    // BUCKET's six, and the one resolved by the object-key decider in meeting-notes.
    expect(before).toHaveLength(7);
    const res = await http('/admin/rebuild', ADMIN, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe('done');
    expect(await conflictRows(true)).toEqual(before);
    expect(await list({})).toEqual(listed);
  }, 60_000);

  it("drops a deleted bucket's conflicts, and a new bucket of the same name does not take its old life's", async () => {
    const deleted = await http(`/admin/buckets/${BUCKET}`, ADMIN, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const created = await call<CreateBucketReply>(MetadataRpc.createBucket, { bucket: BUCKET, owner: 'bob' });
    expect((await list({ minSequence: created.sequence })).conflicts).toEqual([]);
    expect(await conflictRows()).toEqual([]);
    // A conflict of the old life, recorded late, is not the new bucket's.
    const late = await publishConflict('c-late', 'photos/late.jpg', `${DAY}T13:00:00.000Z`, { incarnation });
    expect((await list({ minSequence: late })).conflicts).toEqual([]);
    incarnation = created.sequence;
    const fresh = await publishConflict('c-new', 'photos/new.jpg', `${DAY}T14:00:00.000Z`);
    expect((await list({ minSequence: fresh })).conflicts.map((c) => c.conflictId)).toEqual(['c-new']);
  });
});
