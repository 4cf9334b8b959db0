import { createHash } from 'node:crypto';
import { CairnError, ClusterKeys, membershipSubject, METADATA_SERVICE, MetadataEventSchemaVersions, MetadataRpc, subjectsFor } from '@cairn/protocol';
import type {
  BucketView,
  CreateBucketReply,
  DeleteObjectReply,
  ListNodesReply,
  ListObjectsV2Reply,
  ListObjectVersionsReply,
  MembershipReply,
  ObjectVersionView,
  PutObjectReply,
  AccessKeyView,
  CreateAccessKeyReply,
  CompleteUploadReply,
  InitiateUploadReply,
  ListPartsReply,
  ListUploadsReply,
  UploadPartReply,
  ProjectionStatusReply,
} from '@cairn/protocol';
import { JetStreamEventStore, NatsConnectionManager, RpcClient } from '@cairn/messaging';
import { ClusterCredentials, PostgresConnection, type RunningService } from '@cairn/service-kit';
import { eventually, signedFetch, testNamespace, testOperatorToken } from '@cairn/testing';
import type { MetadataConfig } from './metadata.config';
import { RootKeyBootstrap } from './access-key/root-key.bootstrap';
import { PROJECTED_TABLES } from './projections/projection-rebuild';
import { body, codeOf, md5, RPC_TIMEOUT_MS, sha256 } from './testing/rpc-test-helpers';
import { bootTwoInstances, closeTwoInstances } from './testing/two-instances';

const ROOT_ACCESS_KEY = 'CAIRNTESTROOTKEY0001';
const ROOT_SECRET_KEY = 'test-root-secret-key-0000000000';

describe('metadata service over NATS (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  const env = { CAIRN_ROOT_ACCESS_KEY: ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: ROOT_SECRET_KEY };
  let a: RunningService<MetadataConfig>;
  let b: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
  const ADMIN_TOKEN = testOperatorToken('admin');
  const asAdmin = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${ADMIN_TOKEN}` } });

  beforeAll(async () => {
    [a, b] = await bootTwoInstances(ns, env);
    rpc = a.app.get(RpcClient);
  }, 60_000);

  afterAll(() => closeTwoInstances(ns, a, b), 60_000);

  it('bootstraps the root access key once, even with two instances starting', async () => {
    const outcomes = await Promise.all([a.app.get(RootKeyBootstrap).done, b.app.get(RootKeyBootstrap).done]);
    expect(outcomes.sort()).toEqual(['created', 'existed']);
    const view = await eventually(() => call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: ROOT_ACCESS_KEY }).catch(() => undefined));
    expect(view).toMatchObject({ accessKeyId: ROOT_ACCESS_KEY, secret: { kind: 'plaintext', value: ROOT_SECRET_KEY }, owner: 'root', isRoot: true, revokedAt: null });
    const history = await a.app.get(JetStreamEventStore).read(subjectsFor(ns).accessKey(ROOT_ACCESS_KEY));
    expect(history.events.map((e) => e.envelope.type)).toEqual(['AccessKeyCreated']);
    // Nobody else may mint a root key.
    expect(await codeOf(call(MetadataRpc.createAccessKey, { owner: 'root' }))).toBe('InvalidArgument');
    const created = await call<CreateAccessKeyReply>(MetadataRpc.createAccessKey, { owner: 'alice' });
    const alice = await call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: created.accessKeyId, minSequence: created.sequence });
    expect(alice).toMatchObject({ owner: 'alice', isRoot: false, secret: { kind: 'plaintext', value: created.secretAccessKey } });
  });

  it('answers for a bucket or access key as soon as its creation is acknowledged, even to a caller that passes no sequence', async () => {
    const made = await Promise.all(Array.from({ length: 10 }, (_, i) => call<CreateBucketReply>(MetadataRpc.createBucket, { bucket: `fresh-${i}`, owner: 'alice' })));
    const keys = await Promise.all(Array.from({ length: 10 }, () => call<CreateAccessKeyReply>(MetadataRpc.createAccessKey, { owner: 'alice' })));
    const buckets = await Promise.all(made.map((_, i) => call<BucketView>(MetadataRpc.getBucket, { bucket: `fresh-${i}` })));
    expect(buckets.map((b) => b.owner)).toEqual(Array(10).fill('alice'));
    const views = await Promise.all(keys.map((k) => call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: k.accessKeyId })));
    expect(views.map((v) => v.secret)).toEqual(keys.map((k) => ({ kind: 'plaintext', value: k.secretAccessKey })));
    expect(await codeOf(call(MetadataRpc.getBucket, { bucket: 'never-made' }))).toBe('NoSuchBucket');
    expect(await codeOf(call(MetadataRpc.getBucket, { bucket: 'Not A Bucket >' }))).toBe('NoSuchBucket');
  });

  it('creates a bucket, puts, heads, lists and deletes objects, reading its own writes', async () => {
    const made = await call<CreateBucketReply>(MetadataRpc.createBucket, { bucket: 'photos', owner: 'alice', versioningEnabled: true });
    expect(made.sequence).toBeGreaterThan(0);
    expect(await codeOf(call(MetadataRpc.createBucket, { bucket: 'photos', owner: 'bob' }))).toBe('BucketAlreadyExists');
    expect(await codeOf(call(MetadataRpc.putObject, { bucket: 'nope', ...body('a', 'x') }))).toBe('NoSuchBucket');

    const keys = ['a/b.txt', 'a/c d.txt', '../up', 'emoji 🎉', 'line\nbreak', 'z'];
    const puts: PutObjectReply[] = [];
    for (const key of keys) puts.push(await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body(key, `body of ${key}`) }));
    const last = puts.at(-1)!;
    // Every reply at a new sequence; version ids are fresh and not "null" in a versioned bucket.
    expect(new Set(puts.map((p) => p.sequence)).size).toBe(keys.length);
    expect(puts.every((p) => p.versionId !== 'null')).toBe(true);

    // A key is read from its own subject: current through instance B right after the write, with no sequence to wait for.
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'photos', key: 'line\nbreak' });
    expect(head).toMatchObject({ key: 'line\nbreak', etag: md5('body of line\nbreak'), versionId: puts[4].versionId, isLatest: true });
    expect(head.chunks).toEqual([{ hash: sha256('body of line\nbreak'), offsetBytes: 0, sizeBytes: Buffer.byteLength('body of line\nbreak') }]);

    const listed = await call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket: 'photos', delimiter: '/', minSequence: last.sequence });
    expect(listed.contents.map((c) => c.key)).toEqual(['emoji 🎉', 'line\nbreak', 'z']);
    expect(listed.commonPrefixes).toEqual(['../', 'a/']);
    const dotted = await call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket: 'photos', prefix: '../' });
    expect(dotted.contents.map((c) => c.key)).toEqual(['../up']);

    const overwrite = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('z', 'second') });
    const del = await call<DeleteObjectReply>(MetadataRpc.deleteObject, { bucket: 'photos', key: 'z' });
    expect(del.deleteMarker).toBe(true);
    expect(await codeOf(call(MetadataRpc.headObject, { bucket: 'photos', key: 'z' }))).toBe('NoSuchKey');
    const old = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'photos', key: 'z', versionId: overwrite.versionId });
    expect(old.etag).toBe(md5('second'));
    const versions = await call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket: 'photos', prefix: 'z', minSequence: del.sequence });
    expect(versions.versions.map((v) => [v.versionId, v.isLatest, v.isDeleteMarker])).toEqual([
      [del.versionId, true, true],
      [overwrite.versionId, false, false],
      [puts[5].versionId, false, false],
    ]);

    // A non-empty bucket refuses deletion and stays writable (the seal was cancelled).
    expect(await codeOf(call(MetadataRpc.deleteBucket, { bucket: 'photos' }))).toBe('BucketNotEmpty');
    const after = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('after', 'still writable') });
    const bucket = await call<BucketView>(MetadataRpc.getBucket, { bucket: 'photos', minSequence: after.sequence });
    expect(bucket).toMatchObject({ name: 'photos', versioning: 'Enabled', deleting: false });
  });

  it("completes a multipart upload into a version with the S3 multipart etag, its part sizes and the upload's content headers", async () => {
    await call(MetadataRpc.createBucket, { bucket: 'uploads', owner: 'alice' });
    const contentHeaders = { 'content-disposition': 'attachment; filename="big.bin"', expires: 'Thu, 01 Jan 2037 00:00:00 GMT' };
    const init = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'uploads', key: 'big.bin', owner: 'alice', contentHeaders });
    const partSize = 5 * 1024 * 1024;
    const etags = [md5('p1'), md5('p2')];
    for (const [i, etag] of etags.entries()) {
      await call<UploadPartReply>(MetadataRpc.uploadPart, {
        bucket: 'uploads',
        uploadId: init.uploadId,
        partNumber: i + 1,
        etag,
        sizeBytes: partSize,
        chunks: [{ hash: sha256(`p${i + 1}`), offsetBytes: 0, sizeBytes: partSize }],
      });
    }
    const parts = etags.map((etag, i) => ({ partNumber: i + 1, etag: `"${etag}"` }));
    const done = await call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'uploads', uploadId: init.uploadId, parts });
    const expectedEtag = `${createHash('md5').update(Buffer.concat(etags.map((e) => Buffer.from(e, 'hex')))).digest('hex')}-2`;
    expect(done).toMatchObject({ key: 'big.bin', versionId: 'null', etag: expectedEtag, sizeBytes: 2 * partSize });
    // A retried complete (lost reply) answers the same version, and appends no second one.
    const again = await call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'uploads', uploadId: init.uploadId, parts });
    expect(again.etag).toBe(expectedEtag);
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'uploads', key: 'big.bin', minSequence: again.sequence });
    expect(head).toMatchObject({ etag: expectedEtag, sizeBytes: 2 * partSize, uploadId: init.uploadId, partSizes: [partSize, partSize], contentHeaders });
    expect(head.chunks.map((c) => c.offsetBytes)).toEqual([0, partSize]);
  });

  it('lets exactly one of 10 racing If-None-Match completes of one key win; the losers stay open, completable and abortable', async () => {
    const RACERS = 10;
    await call(MetadataRpc.createBucket, { bucket: 'cond-uploads', owner: 'alice' });
    const uploads: { uploadId: string; parts: { partNumber: number; etag: string }[] }[] = [];
    for (let i = 0; i < RACERS; i++) {
      const { uploadId } = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'cond-uploads', key: 'race.bin', owner: 'alice' });
      const content = `racer ${i}`;
      await call<UploadPartReply>(MetadataRpc.uploadPart, {
        bucket: 'cond-uploads',
        uploadId,
        partNumber: 1,
        etag: md5(content),
        sizeBytes: content.length,
        chunks: [{ hash: sha256(content), offsetBytes: 0, sizeBytes: content.length }],
      });
      uploads.push({ uploadId, parts: [{ partNumber: 1, etag: md5(content) }] });
    }
    const complete = (u: (typeof uploads)[number], conditions: object) =>
      call<CompleteUploadReply>(MetadataRpc.completeUpload, { bucket: 'cond-uploads', uploadId: u.uploadId, parts: u.parts, ...conditions });
    // RPCs spread over both instances: the key's expected sequence orders them, not one process.
    const outcomes = await Promise.all(uploads.map((u) => complete(u, { ifNoneMatch: '*' }).then((reply) => reply, (error: unknown) => codeOf(Promise.reject(error)))));
    const winners = outcomes.flatMap((o, i) => (typeof o === 'string' ? [] : [{ reply: o, upload: uploads[i] }]));
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'PreconditionFailed')).toHaveLength(RACERS - 1);
    const [winner] = winners;
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'cond-uploads', key: 'race.bin', minSequence: winner.reply.sequence });
    expect(head).toMatchObject({ uploadId: winner.upload.uploadId, etag: winner.reply.etag });

    // The losers are in progress again (listed with their parts); the winner is not.
    const losers = uploads.filter((u) => u !== winner.upload);
    await eventually(async () => {
      const listed = await call<ListUploadsReply>(MetadataRpc.listUploads, { bucket: 'cond-uploads' });
      expect(listed.uploads.map((u) => u.uploadId).sort()).toEqual(losers.map((u) => u.uploadId).sort());
      return true;
    });
    const parts = await call<ListPartsReply>(MetadataRpc.listParts, { bucket: 'cond-uploads', uploadId: losers[0].uploadId });
    expect(parts.parts.map((p) => [p.partNumber, p.etag])).toEqual([[1, losers[0].parts[0].etag]]);

    // A loser completes once its condition holds (If-Match on the winner's etag); a wrong etag still fails.
    expect(await codeOf(complete(losers[0], { ifMatch: `"${'0'.repeat(32)}-1"` }))).toBe('PreconditionFailed');
    const replaced = await complete(losers[0], { ifMatch: `"${winner.reply.etag}"` });
    expect(await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'cond-uploads', key: 'race.bin', minSequence: replaced.sequence })).toMatchObject({
      uploadId: losers[0].uploadId,
    });
    // The other losers abort; the completed uploads (the winner's, the replacement's) cannot be.
    for (const u of losers.slice(1)) expect(await codeOf(call(MetadataRpc.abortUpload, { bucket: 'cond-uploads', uploadId: u.uploadId }))).toBe('OK');
    expect(await codeOf(call(MetadataRpc.abortUpload, { bucket: 'cond-uploads', uploadId: winner.upload.uploadId }))).toBe('NoSuchUpload');
    expect(await codeOf(call(MetadataRpc.abortUpload, { bucket: 'cond-uploads', uploadId: losers[0].uploadId }))).toBe('NoSuchUpload');
    // A retried conditional complete of the winner (its reply lost) succeeds, as S3 answers a repeated
    // completion, without putting its version back over the later one or reopening the upload.
    const retried = await complete(winner.upload, { ifNoneMatch: '*' });
    expect(retried.etag).toBe(winner.reply.etag);
    expect(await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'cond-uploads', key: 'race.bin' })).toMatchObject({ uploadId: losers[0].uploadId });
    expect(await codeOf(call(MetadataRpc.abortUpload, { bucket: 'cond-uploads', uploadId: winner.upload.uploadId }))).toBe('NoSuchUpload');
  }, 60_000);

  it('orders 50 concurrent puts to one key from two instances: 50 versions, no lost update', async () => {
    await call(MetadataRpc.createBucket, { bucket: 'hot', owner: 'alice', versioningEnabled: true });
    const clients = [a.app.get(RpcClient), b.app.get(RpcClient)];
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        clients[i % 2].request<PutObjectReply>(METADATA_SERVICE, MetadataRpc.putObject, { bucket: 'hot', ...body('the-key', `writer ${i}`) }, { timeoutMs: 30_000 }),
      ),
    );
    const maxSequence = Math.max(...replies.map((r) => r.sequence));
    expect(new Set(replies.map((r) => r.versionId)).size).toBe(50);
    expect(new Set(replies.map((r) => r.sequence)).size).toBe(50);
    const listed = await call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket: 'hot', minSequence: maxSequence });
    expect(listed.versions).toHaveLength(50);
    // The listing's order (newest first) is the stream order of the acknowledged appends.
    const byStreamOrder = [...replies].sort((x, y) => y.sequence - x.sequence).map((r) => r.versionId);
    expect(listed.versions.map((v) => v.versionId)).toEqual(byStreamOrder);
    expect(listed.versions.filter((v) => v.isLatest).map((v) => v.versionId)).toEqual([byStreamOrder[0]]);
    const etags = new Set(listed.versions.map((v) => v.etag));
    for (let i = 0; i < 50; i++) expect(etags.has(md5(`writer ${i}`))).toBe(true);
  }, 60_000);

  it('never leaves an acknowledged put in a deleted bucket when puts race the delete', async () => {
    const outcomes: string[] = [];
    // Each round starts the delete and 12 puts with an offset between them: negative offsets start
    // the puts first, positive ones the delete; the puts themselves are spread over a few ms.
    const putOffsetsMs = [-6, -3, -1, 0, 0, 1, 2, 4, 8, 12];
    for (const [round, offsetMs] of putOffsetsMs.entries()) {
      const bucket = `race-${round}`;
      await call(MetadataRpc.createBucket, { bucket, owner: 'alice' });
      const putsAt = Math.max(0, offsetMs);
      const deleteAt = Math.max(0, -offsetMs);
      const puts = Array.from({ length: 12 }, (_, i) =>
        new Promise((r) => setTimeout(r, putsAt + (i % 4)))
          .then(() => call<PutObjectReply>(MetadataRpc.putObject, { bucket, ...body(`k${i}`, `v${i}`) }))
          .then((reply) => ({ key: `k${i}`, reply }))
          .catch((error: CairnError) => ({ key: `k${i}`, error: error.code })),
      );
      let deleteSequence = 0;
      const deletion = new Promise((r) => setTimeout(r, deleteAt)).then(() =>
        codeOf(call<{ sequence: number }>(MetadataRpc.deleteBucket, { bucket }).then((reply) => (deleteSequence = reply.sequence))),
      );
      const [deleted, ...results] = await Promise.all([deletion, ...puts]);
      const acknowledged = results.flatMap((r) => ('reply' in r ? [r] : []));
      for (const r of results) if ('error' in r) expect(['NoSuchBucket', 'OperationAborted']).toContain(r.error);
      outcomes.push(`${deleted}:${acknowledged.length}`);
      if (deleted === 'OK') {
        expect(acknowledged).toEqual([]);
        expect(await codeOf(call(MetadataRpc.getBucket, { bucket, minSequence: deleteSequence }))).toBe('NoSuchBucket');
      } else {
        expect(deleted).toBe('BucketNotEmpty');
        const maxSequence = Math.max(0, ...acknowledged.map((r) => r.reply.sequence));
        for (const r of acknowledged) {
          const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket, key: r.key, minSequence: maxSequence });
          expect(head.etag).toBe(md5(`v${r.key.slice(1)}`));
        }
      }
    }
    // The rounds must exercise both outcomes, or the race was not a race.
    expect(outcomes.join(' ')).toMatch(/(^| )OK:/);
    expect(outcomes.join(' ')).toMatch(/(^| )BucketNotEmpty:/);
  }, 60_000);

  it('projects membership from the CLUSTER stream: nodes and the ring epoch', async () => {
    const joined = await call<MembershipReply>(MetadataRpc.joinNode, { nodeId: 'n1', zone: 'z1', host: 'h1', address: 'http://h1:9201', weight: 100, capacityBytes: 1000 });
    const drained = await call<MembershipReply>(MetadataRpc.drainNode, { nodeId: 'n1' });
    expect([joined.epoch, drained.epoch]).toEqual([1, 2]);
    const history = await a.app.get(JetStreamEventStore).read(membershipSubject(ns));
    expect(history.lastSequence).toBe(drained.sequence);
    const nodes = await call<ListNodesReply>(MetadataRpc.listNodes, { minSequence: drained.sequence });
    expect(nodes.epoch).toBe(2);
    expect(nodes.nodes).toEqual([expect.objectContaining({ nodeId: 'n1', draining: true, epoch: 2 })]);
  });

  it('rebuilds the projections from the streams into exactly the live state', async () => {
    // Content headers too (part sizes come with the uploads completed above).
    await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('with-headers', 'x'), contentHeaders: { 'cache-control': 'no-cache', 'content-language': 'en' } });
    const status = await eventually(async () => {
      const s = await call<ProjectionStatusReply>(MetadataRpc.projectionStatus, {});
      return s.streams.every((x) => x.lag === 0) ? s : undefined;
    });
    expect(status.streams.map((s) => s.stream)).toEqual(['META', 'CLUSTER']);
    const before = await dumpTables(a);
    expect(before['object_versions'].length).toBeGreaterThan(50);
    const res = await asAdmin(`${b.url}/admin/rebuild`, { method: 'POST' });
    expect(res.status).toBe(200);
    const progress = (await res.json()) as { state: string; streams: Record<string, { target: number; replayed: number; checkpoint: number }> };
    expect(progress.state).toBe('done');
    expect(progress.streams['META'].checkpoint).toBe(progress.streams['META'].target);
    expect(progress.streams['META'].replayed).toBeGreaterThan(50);
    const after = await dumpTables(a);
    expect(after).toEqual(before);
    // And the service keeps projecting after the rebuild.
    const put = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('post-rebuild', 'x') });
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'photos', key: 'post-rebuild', minSequence: put.sequence });
    expect(head.versionId).toBe(put.versionId);
  }, 60_000);

  it('serves the admin HTTP API with OpenAPI: buckets, access keys, nodes, ring epoch, projections', async () => {
    const post = (path: string, payload: unknown) =>
      asAdmin(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect((await post('/admin/buckets', { bucket: 'Bad Name!', owner: 'x' })).status).toBe(400);
    expect((await post('/admin/buckets', { bucket: 'admin-made', owner: 'ops', unknown: 1 })).status).toBe(400);
    const created = await post('/admin/buckets', { bucket: 'admin-made', owner: 'ops', versioningEnabled: true });
    expect(created.status).toBe(201);
    expect((await post('/admin/buckets', { bucket: 'admin-made', owner: 'other' })).status).toBe(409);
    const bucket = await eventually(async () => {
      const res = await asAdmin(`${a.url}/admin/buckets/admin-made`);
      return res.status === 200 ? ((await res.json()) as BucketView) : undefined;
    });
    expect(bucket).toMatchObject({ name: 'admin-made', owner: 'ops', versioning: 'Enabled' });
    expect((await asAdmin(`${a.url}/admin/buckets/no-such-bucket`)).status).toBe(404);

    const key = (await (await post('/admin/access-keys', { owner: 'ops' })).json()) as CreateAccessKeyReply;
    expect(key.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(key.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    const listed = await eventually(async () => {
      const res = (await (await asAdmin(`${a.url}/admin/access-keys?owner=ops`)).json()) as { accessKeys: AccessKeyView[] };
      return res.accessKeys.length === 1 ? res.accessKeys : undefined;
    });
    expect(listed[0]).toMatchObject({ accessKeyId: key.accessKeyId, revokedAt: null });
    expect(listed[0]).not.toHaveProperty('secret');
    expect((await asAdmin(`${a.url}/admin/access-keys/${key.accessKeyId}`, { method: 'DELETE' })).status).toBe(200);
    const revoked = await eventually(async () => {
      const view = await call<AccessKeyView>(MetadataRpc.getAccessKey, { accessKeyId: key.accessKeyId });
      return view.revokedAt ? view : undefined;
    });
    expect(revoked.secret).toEqual({ kind: 'plaintext', value: key.secretAccessKey });

    const nodes = (await (await asAdmin(`${a.url}/admin/nodes`)).json()) as ListNodesReply;
    expect(nodes.nodes.map((n) => n.nodeId)).toEqual(['n1']);
    expect(await (await asAdmin(`${a.url}/admin/ring/epoch`)).json()).toEqual({ epoch: 2 });
    const projections = (await (await asAdmin(`${a.url}/admin/projections`)).json()) as { streams: { stream: string; lag: number }[] };
    expect(projections.streams.map((s) => s.stream)).toEqual(['META', 'CLUSTER']);
    const doc = (await (await fetch(`${a.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    for (const path of ['/admin/buckets', '/admin/buckets/{name}', '/admin/access-keys', '/admin/access-keys/{id}', '/admin/nodes', '/admin/ring/epoch', '/admin/projections', '/admin/rebuild']) {
      expect(doc.paths[path]).toBeDefined();
    }
  });

  it('opens the admin API only to operator tokens of its role and to services, and issues tokens to admins', async () => {
    const status = async (res: Response) => {
      await res.arrayBuffer();
      return res.status;
    };
    const postJson = (path: string, payload: unknown, headers: Record<string, string>) =>
      fetch(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    // No credential: nothing minted, nothing listed.
    expect(await status(await postJson('/admin/access-keys', { owner: 'mallory' }, {}))).toBe(401);
    expect(await status(await fetch(`${a.url}/admin/access-keys`))).toBe(401);
    // A forged, an expired and a foreign token.
    expect(await status(await fetch(`${a.url}/admin/buckets`, { headers: bearer(`${ADMIN_TOKEN.slice(0, -4)}AAAA`) }))).toBe(401);
    const expired = testOperatorToken('admin', 1_000);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await status(await fetch(`${a.url}/admin/buckets`, { headers: bearer(expired) }))).toBe(401);
    const foreign = new ClusterCredentials(new ClusterKeys('a-different-cluster-secret-000000000000'), 'x/y', 30_000).mintOperatorToken({ role: 'admin' }).token;
    expect(await status(await fetch(`${a.url}/admin/buckets`, { headers: bearer(foreign) }))).toBe(401);
    // read-only reads but changes nothing.
    const readOnly = testOperatorToken('read-only');
    expect(await status(await fetch(`${a.url}/admin/buckets`, { headers: bearer(readOnly) }))).toBe(200);
    expect(await status(await postJson('/admin/access-keys', { owner: 'mallory' }, bearer(readOnly)))).toBe(403);
    expect(await status(await postJson('/admin/tokens', { role: 'admin' }, bearer(readOnly)))).toBe(403);
    expect(await status(await fetch(`${a.url}/admin/access-keys/${ROOT_ACCESS_KEY}`, { method: 'DELETE', headers: bearer(readOnly) }))).toBe(403);
    const keys = (await (await fetch(`${a.url}/admin/access-keys?owner=mallory`, { headers: bearer(readOnly) })).json()) as { accessKeys: unknown[] };
    expect(keys.accessKeys).toEqual([]);
    // An admin issues a read-only token; it works on the other instance too (no shared state).
    const issued = await postJson('/admin/tokens', { role: 'read-only', label: 'prometheus', ttlSeconds: 3600 }, bearer(ADMIN_TOKEN));
    expect(issued.status).toBe(201);
    const reply = (await issued.json()) as { token: string; role: string; label: string; expiresAt: string };
    expect(reply).toMatchObject({ role: 'read-only', label: 'prometheus' });
    expect(await (await fetch(`${b.url}/admin/whoami`, { headers: bearer(reply.token) })).json()).toMatchObject({ caller: { kind: 'operator', role: 'read-only', label: 'prometheus' } });
    expect(await status(await postJson('/admin/tokens', { role: 'superuser' }, bearer(ADMIN_TOKEN)))).toBe(400);
    // Services sign instead.
    expect(await (await signedFetch(`${b.url}/admin/whoami`)).json()).toMatchObject({ caller: { kind: 'service', name: 'test/runner' } });
    // Owner names that pass for root are refused whatever the credential.
    for (const owner of ['Root', ' root', 'root\u0000', 'rооt']) {
      expect(await status(await postJson('/admin/access-keys', { owner }, bearer(ADMIN_TOKEN)))).toBe(400);
    }
  });

  it('refuses a delete marker in a bucket being deleted, but lets its versions be removed', async () => {
    await call(MetadataRpc.createBucket, { bucket: 'sealed', owner: 'alice', versioningEnabled: true });
    const put = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'sealed', ...body('k', 'v') });
    // Seal directly through the bucket aggregate, as phase one of a delete does.
    const store = a.app.get(JetStreamEventStore);
    const subject = subjectsFor(ns).bucket('sealed');
    const read = await store.read(subject);
    const seal = { ...read.events[0].envelope, id: `seal-${ns}`, type: 'BucketDeletionStarted', schemaVersion: MetadataEventSchemaVersions.BucketDeletionStarted, data: { bucket: 'sealed', deletionId: 'd1', startedAt: new Date().toISOString() } };
    await store.append(subject, [seal], read.lastSequence);
    expect(await codeOf(call(MetadataRpc.deleteObject, { bucket: 'sealed', key: 'k' }))).toBe('OperationAborted');
    expect(await codeOf(call(MetadataRpc.putObject, { bucket: 'sealed', ...body('k2', 'v') }))).toBe('OperationAborted');
    const removed = await call<DeleteObjectReply>(MetadataRpc.deleteObject, { bucket: 'sealed', key: 'k', versionId: put.versionId });
    expect(removed).toMatchObject({ versionId: put.versionId, deleteMarker: false });
  });

  it('exposes projection lag as a Prometheus gauge and on /health', async () => {
    const metrics = await (await asAdmin(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/cairn_metadata_projection_lag_events\{stream="META"[^}]*\} \d+/);
    const health = (await eventually(async () => {
      const h = (await (await fetch(`${a.url}/health`)).json()) as { info?: Record<string, unknown> };
      return JSON.stringify(h).includes('"projection"') ? h : undefined;
    })) as object;
    expect(JSON.stringify(health)).toContain('"lag"');
  });

  it('parks an event the projection cannot apply on the dead-letter subject, and projects what follows it', async () => {
    const store = a.app.get(JetStreamEventStore);
    const subject = subjectsFor(ns).object('photos', sha256('poison'));
    const template = (await store.read(subjectsFor(ns).bucket('photos'))).events[0].envelope;
    // An ObjectVersionPut without its version data: decoded fine, but its rows cannot be written.
    const poison = { ...template, id: `poison-${ns}`, type: 'ObjectVersionPut', schemaVersion: MetadataEventSchemaVersions.ObjectVersionPut, aggregateId: 'photos/poison', data: { bucket: 'photos', key: 'poison' } };
    const poisonSequence = await store.publish(subject, poison);
    const after = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('after-poison', 'fine') });
    // The poison event is retried with backoff (about 3 s in all) before it is parked.
    const listed = await eventually(
      () => call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket: 'photos', prefix: 'after-poison', minSequence: after.sequence }).catch(() => undefined),
      20_000,
    );
    expect(listed.contents.map((c) => c.versionId)).toEqual([after.versionId]);
    const jsm = await a.app.get(NatsConnectionManager).jetstreamManager();
    const parked = await jsm.streams.getMessage(subjectsFor(ns).streamName('DLQ'), { last_by_subj: subjectsFor(ns).deadLetter('META', 'metadata-projector') });
    expect(parked.header.get('Cairn-Original-Sequence')).toBe(String(poisonSequence));
    expect(parked.header.get('Cairn-Dead-Letter-Error')).not.toBe('');
  }, 30_000);

  it('parks a message no upcaster can read (not an event envelope) the same way, instead of stalling the projection on it', async () => {
    const js = await a.app.get(NatsConnectionManager).jetstream();
    const unreadable = await js.publish(subjectsFor(ns).object('photos', sha256('unreadable')), new TextEncoder().encode('{"written":"by something that is not Cairn"}'));
    const after = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('after-unreadable', 'fine') });
    const listed = await eventually(
      () => call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket: 'photos', prefix: 'after-unreadable', minSequence: after.sequence }).catch(() => undefined),
      20_000,
    );
    expect(listed.contents.map((c) => c.versionId)).toEqual([after.versionId]);
    const jsm = await a.app.get(NatsConnectionManager).jetstreamManager();
    const parked = await jsm.streams.getMessage(subjectsFor(ns).streamName('DLQ'), { last_by_subj: subjectsFor(ns).deadLetter('META', 'metadata-projector') });
    expect(parked.header.get('Cairn-Original-Sequence')).toBe(String(unreadable.seq));
    expect(parked.header.get('Cairn-Dead-Letter-Error')).toMatch(/not an event envelope/);

    // A rebuild steps over what the live projection parked (the two events of these cases) instead of failing on them.
    const res = await asAdmin(`${b.url}/admin/rebuild`, { method: 'POST' });
    expect(res.status).toBe(200);
    const progress = (await res.json()) as { state: string; streams: Record<string, { target: number; checkpoint: number; parked: number }> };
    expect(progress.state).toBe('done');
    expect(progress.streams['META'].parked).toBe(2);
    expect(progress.streams['META'].checkpoint).toBe(progress.streams['META'].target);
    const put = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'photos', ...body('after-rebuild-over-parked', 'x') });
    const head = await call<ObjectVersionView>(MetadataRpc.headObject, { bucket: 'photos', key: 'after-rebuild-over-parked', minSequence: put.sequence });
    expect(head.versionId).toBe(put.versionId);
  }, 60_000);
});

/** Every projected table, rows sorted, as plain JSON: the comparable live state. */
async function dumpTables(running: RunningService<MetadataConfig>): Promise<Record<string, unknown[]>> {
  const ds = await running.app.get(PostgresConnection).ready();
  const schema = (ds.options as { schema: string }).schema;
  const dump: Record<string, unknown[]> = {};
  for (const table of [...PROJECTED_TABLES, 'projection_checkpoints']) {
    const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM "${schema}"."${table}"`);
    dump[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return dump;
}
