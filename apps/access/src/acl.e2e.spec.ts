import {
  CreateBucketCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  PutBucketVersioningCommand,
  CopyObjectCommand,
  GetObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RpcClient } from '@cairn/messaging';
import { ALL_USERS_GROUP, canonicalIdOf, METADATA_SERVICE, MetadataRpc, type CreateUserReply } from '@cairn/protocol';
import { request as httpRequest } from 'node:http';
import { presignUrl, startS3Stack, type Credentials, type S3Stack, s3Error } from './testing/s3-stack.e2e-helper';


/** One region of real processes (metadata, storage nodes, NATS, Postgres) for the whole file. */
let stack: S3Stack;
beforeAll(async () => {
  stack = await startS3Stack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/**
 * ACLs, Object Ownership and PublicAccessBlock end to end: real AWS SDK calls as three users and
 * unsigned fetches against a region of real processes (metadata, storage nodes, NATS, Postgres).
 */
describe('ACLs, ownership controls and PublicAccessBlock (e2e)', () => {
  let alice: S3Client;
  let bob: S3Client;
  let carol: S3Client;
  const ids = { alice: canonicalIdOf('acl-alice'), bob: canonicalIdOf('acl-bob'), carol: canonicalIdOf('acl-carol') };
  const enforced = 'acl-enforced';
  const shared = 'acl-shared';
  const anonymous = (path: string, init: RequestInit = {}) => fetch(`${stack.endpoint}/${path}`, init);

  beforeAll(async () => {
    const rpc = stack.access.app.get(RpcClient);
    const createUser = (user: string, displayName: string, email: string) => rpc.request<CreateUserReply>(METADATA_SERVICE, MetadataRpc.createUser, { user, displayName, email });
    await createUser('acl-alice', 'Alice A.', 'alice@example.com');
    await createUser('acl-bob', 'Bob B.', 'Bob@Example.com');
    const keys: Credentials[] = [await stack.createAccessKey('acl-alice'), await stack.createAccessKey('acl-bob'), await stack.createAccessKey('acl-carol')];
    [alice, bob, carol] = keys.map((k) => stack.client(k));
    await alice.send(new CreateBucketCommand({ Bucket: enforced }));
    await alice.send(new CreateBucketCommand({ Bucket: shared, ObjectOwnership: 'ObjectWriter', ACL: 'public-read' }));
    await alice.send(new PutObjectCommand({ Bucket: shared, Key: 'a.txt', Body: 'alice wrote this' }));
  }, 120_000);

  afterAll(async () => {
    for (const client of [alice, bob, carol]) client?.destroy();
  });

  it('names owners by canonical id and display name (ListBuckets, GetBucketAcl)', async () => {
    const listed = await alice.send(new ListBucketsCommand({}));
    expect(listed.Owner).toEqual({ ID: ids.alice, DisplayName: 'Alice A.' });
    expect(ids.alice).toMatch(/^[0-9a-f]{64}$/);
    const acl = await alice.send(new GetBucketAclCommand({ Bucket: enforced }));
    expect(acl.Owner).toEqual({ ID: ids.alice, DisplayName: 'Alice A.' });
    expect(acl.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: ids.alice, DisplayName: 'Alice A.' }, Permission: 'FULL_CONTROL' }]);
    // A user made by its first key, never created as such, is shown by its name.
    expect((await carol.send(new ListBucketsCommand({}))).Owner).toEqual({ ID: ids.carol, DisplayName: 'acl-carol' });
  });

  it('makes new buckets BucketOwnerEnforced: ACLs other than the owner\'s full control are AccessControlListNotSupported', async () => {
    expect((await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: enforced }))).OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    expect(await s3Error(alice.send(new PutBucketAclCommand({ Bucket: enforced, ACL: 'public-read' })))).toEqual({ name: 'AccessControlListNotSupported', status: 400 });
    expect(await s3Error(alice.send(new PutObjectCommand({ Bucket: enforced, Key: 'p', Body: 'x', ACL: 'public-read' })))).toEqual({ name: 'AccessControlListNotSupported', status: 400 });
    expect(await s3Error(alice.send(new PutObjectCommand({ Bucket: enforced, Key: 'p', Body: 'x', GrantRead: `id="${ids.bob}"` })))).toEqual({ name: 'AccessControlListNotSupported', status: 400 });
    await alice.send(new PutObjectCommand({ Bucket: enforced, Key: 'p', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await alice.send(new PutBucketAclCommand({ Bucket: enforced, ACL: 'private' }));
    // Bob is nobody here, and the bucket's (absent) ACL grants nobody.
    expect(await s3Error(bob.send(new ListObjectsV2Command({ Bucket: enforced })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await anonymous(`${enforced}/p`)).status).toBe(403);
  });

  it('lets anonymous callers list a public-read bucket (ACLs on) but not read or write its objects', async () => {
    const acl = await alice.send(new GetBucketAclCommand({ Bucket: shared }));
    expect(acl.Grants).toEqual(
      expect.arrayContaining([
        { Grantee: { Type: 'CanonicalUser', ID: ids.alice, DisplayName: 'Alice A.' }, Permission: 'FULL_CONTROL' },
        { Grantee: { Type: 'Group', URI: ALL_USERS_GROUP }, Permission: 'READ' },
      ]),
    );
    const listing = await anonymous(shared);
    expect(listing.status).toBe(200);
    expect(await listing.text()).toContain('<Key>a.txt</Key>');
    expect((await anonymous(`${shared}/a.txt`)).status).toBe(403);
    expect((await anonymous(`${shared}/new.txt`, { method: 'PUT', body: 'x' })).status).toBe(403);
    // Carol is signed in: AllUsers includes her; AuthenticatedUsers would too.
    expect((await carol.send(new ListObjectsV2Command({ Bucket: shared }))).KeyCount).toBe(1);
    // Written without an ACL: private, its owner's full control.
    expect((await alice.send(new GetObjectAclCommand({ Bucket: shared, Key: 'a.txt' }))).Grants).toEqual([
      { Grantee: { Type: 'CanonicalUser', ID: ids.alice, DisplayName: 'Alice A.' }, Permission: 'FULL_CONTROL' },
    ]);
  });

  it('grants other users by email and by canonical id (headers and the XML body); an unknown email is refused', async () => {
    await alice.send(new PutBucketAclCommand({ Bucket: shared, GrantFullControl: `id="${ids.alice}"`, GrantWrite: 'emailAddress="bob@example.com"', GrantRead: `id="${ids.carol}"` }));
    await bob.send(new PutObjectCommand({ Bucket: shared, Key: 'from-bob.txt', Body: 'bob', ACL: 'bucket-owner-full-control' }));
    await bob.send(new DeleteObjectCommand({ Bucket: shared, Key: 'from-bob.txt' }));
    expect(await s3Error(bob.send(new ListObjectsV2Command({ Bucket: shared })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect((await carol.send(new ListObjectsV2Command({ Bucket: shared }))).KeyCount).toBe(1);
    expect(await s3Error(carol.send(new PutObjectCommand({ Bucket: shared, Key: 'from-carol.txt', Body: 'carol' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(bob.send(new GetBucketAclCommand({ Bucket: shared })))).toEqual({ name: 'AccessDenied', status: 403 });
    // The public grant is gone: anonymous listing is refused now.
    expect((await anonymous(shared)).status).toBe(403);

    await alice.send(
      new PutBucketAclCommand({
        Bucket: shared,
        AccessControlPolicy: {
          Owner: { ID: ids.alice },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ids.alice }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'bob@example.com' }, Permission: 'READ_ACP' },
            { Grantee: { Type: 'Group', URI: ALL_USERS_GROUP }, Permission: 'READ' },
          ],
        },
      }),
    );
    const seenByBob = await bob.send(new GetBucketAclCommand({ Bucket: shared }));
    expect(seenByBob.Grants).toContainEqual({ Grantee: { Type: 'CanonicalUser', ID: ids.bob, DisplayName: 'Bob B.' }, Permission: 'READ_ACP' });
    expect((await anonymous(shared)).status).toBe(200);
    expect(await s3Error(alice.send(new PutBucketAclCommand({ Bucket: shared, GrantRead: 'emailAddress="nobody@example.com"' })))).toEqual({ name: 'UnresolvableGrantByEmailAddress', status: 400 });
    expect(await s3Error(alice.send(new PutBucketAclCommand({ Bucket: shared, GrantRead: `id="${'0'.repeat(64)}"` })))).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it('PublicAccessBlock: IgnorePublicAcls and RestrictPublicBuckets override public grants and policies; BlockPublic* refuse them', async () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${shared}/*` }] });
    await alice.send(new PutBucketPolicyCommand({ Bucket: shared, Policy: policy }));
    expect((await anonymous(`${shared}/a.txt`)).status).toBe(200);
    expect(await s3Error(alice.send(new GetPublicAccessBlockCommand({ Bucket: shared })))).toEqual({ name: 'NoSuchPublicAccessBlockConfiguration', status: 404 });

    await alice.send(new PutPublicAccessBlockCommand({ Bucket: shared, PublicAccessBlockConfiguration: { IgnorePublicAcls: true, RestrictPublicBuckets: true } }));
    expect((await alice.send(new GetPublicAccessBlockCommand({ Bucket: shared }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    expect((await anonymous(shared)).status).toBe(403);
    expect((await anonymous(`${shared}/a.txt`)).status).toBe(403);
    // Named grants still count: Bob keeps READ_ACP.
    await bob.send(new GetBucketAclCommand({ Bucket: shared }));

    await alice.send(new PutPublicAccessBlockCommand({ Bucket: shared, PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true } }));
    expect(await s3Error(alice.send(new PutBucketAclCommand({ Bucket: shared, ACL: 'public-read-write' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(alice.send(new PutBucketPolicyCommand({ Bucket: shared, Policy: policy })))).toEqual({ name: 'AccessDenied', status: 403 });
    // Nothing ignored or restricted now: the public ACL and policy already there answer again.
    expect((await anonymous(`${shared}/a.txt`)).status).toBe(200);

    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: shared }));
    await alice.send(new PutBucketAclCommand({ Bucket: shared, ACL: 'public-read-write' }));
    expect((await anonymous(`${shared}/anon.txt`, { method: 'PUT', body: 'anonymous' })).status).toBe(200);
  });

  it('ownership controls: BucketOwnerEnforced is refused while the ACL grants others, then disables ACLs', async () => {
    expect(await s3Error(alice.send(new PutBucketOwnershipControlsCommand({ Bucket: shared, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } })))).toEqual({
      name: 'InvalidBucketAclWithObjectOwnership',
      status: 400,
    });
    await alice.send(new PutBucketAclCommand({ Bucket: shared, ACL: 'private' }));
    await alice.send(new PutBucketOwnershipControlsCommand({ Bucket: shared, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }));
    expect((await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: shared }))).OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    await alice.send(new DeleteBucketOwnershipControlsCommand({ Bucket: shared }));
    expect(await s3Error(alice.send(new GetBucketOwnershipControlsCommand({ Bucket: shared })))).toEqual({ name: 'OwnershipControlsNotFoundError', status: 404 });
    // Bob, no longer granted anything, and another user's bucket name: refused, not a 5xx.
    expect(await s3Error(bob.send(new PutBucketAclCommand({ Bucket: shared, ACL: 'private' })))).toEqual({ name: 'AccessDenied', status: 403 });
  });
});

/**
 * Object ACLs stored per version: canned ACLs and grants on PutObject, CopyObject, multipart
 * uploads and PutObjectAcl (headers and XML body, by id and email), `?acl&versionId=`, who owns
 * what each Object Ownership makes, PublicAccessBlock on object ACLs, and reads decided on them.
 */
describe('object ACLs (e2e)', () => {
  let alice: S3Client;
  let bob: S3Client;
  let carol: S3Client;
  const ids = { alice: canonicalIdOf('objacl-alice'), bob: canonicalIdOf('objacl-bob'), carol: canonicalIdOf('objacl-carol') };
  const writer = 'objacl-writer';
  const preferred = 'objacl-preferred';
  const enforced = 'objacl-enforced';
  const anonymous = (path: string, init: RequestInit = {}) => fetch(`${stack.endpoint}/${path}`, init);
  const owner = (id: string, displayName: string) => ({ ID: id, DisplayName: displayName });
  const full = (id: string, displayName: string) => ({ Grantee: { Type: 'CanonicalUser', ID: id, DisplayName: displayName }, Permission: 'FULL_CONTROL' });

  beforeAll(async () => {
    const rpc = stack.access.app.get(RpcClient);
    await rpc.request<CreateUserReply>(METADATA_SERVICE, MetadataRpc.createUser, { user: 'objacl-alice', displayName: 'Alice O.' });
    await rpc.request<CreateUserReply>(METADATA_SERVICE, MetadataRpc.createUser, { user: 'objacl-bob', displayName: 'Bob O.', email: 'bob.o@example.com' });
    const keys: Credentials[] = [await stack.createAccessKey('objacl-alice'), await stack.createAccessKey('objacl-bob'), await stack.createAccessKey('objacl-carol')];
    [alice, bob, carol] = keys.map((k) => stack.client(k));
    for (const [bucket, ownership] of [[writer, 'ObjectWriter'], [preferred, 'BucketOwnerPreferred']] as const) {
      await alice.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: ownership }));
      // Bob may write into both (WRITE on the bucket); reading objects is up to their own ACLs.
      await alice.send(new PutBucketAclCommand({ Bucket: bucket, GrantFullControl: `id="${ids.alice}"`, GrantWrite: `id="${ids.bob}"` }));
    }
    await alice.send(new CreateBucketCommand({ Bucket: enforced }));
  }, 120_000);

  afterAll(async () => {
    for (const client of [alice, bob, carol]) client?.destroy();
  });

  it('anonymous callers read a public-read object, not a private one; GetObjectAcl shows each', async () => {
    await alice.send(new PutObjectCommand({ Bucket: writer, Key: 'public.txt', Body: 'for everyone', ACL: 'public-read' }));
    await alice.send(new PutObjectCommand({ Bucket: writer, Key: 'private.txt', Body: 'for alice' }));
    const read = await anonymous(`${writer}/public.txt`);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('for everyone');
    expect((await anonymous(`${writer}/public.txt`, { method: 'HEAD' })).status).toBe(200);
    expect((await anonymous(`${writer}/private.txt`)).status).toBe(403);
    // READ is not READ_ACP: the ACL itself stays the owner's.
    expect((await anonymous(`${writer}/public.txt?acl`)).status).toBe(403);
    const acl = await alice.send(new GetObjectAclCommand({ Bucket: writer, Key: 'public.txt' }));
    expect(acl.Owner).toEqual(owner(ids.alice, 'Alice O.'));
    expect(acl.Grants).toEqual([full(ids.alice, 'Alice O.'), { Grantee: { Type: 'Group', URI: ALL_USERS_GROUP }, Permission: 'READ' }]);
    expect((await alice.send(new GetObjectAclCommand({ Bucket: writer, Key: 'private.txt' }))).Grants).toEqual([full(ids.alice, 'Alice O.')]);
  });

  it('another user reads only with a grant (headers by id, XML body by email); READ does not give READ_ACP', async () => {
    expect(await s3Error(carol.send(new GetObjectCommand({ Bucket: writer, Key: 'private.txt' })))).toEqual({ name: 'AccessDenied', status: 403 });
    await alice.send(new PutObjectAclCommand({ Bucket: writer, Key: 'private.txt', GrantFullControl: `id="${ids.alice}"`, GrantRead: `id="${ids.carol}"` }));
    const got = await carol.send(new GetObjectCommand({ Bucket: writer, Key: 'private.txt' }));
    expect(await got.Body?.transformToString()).toBe('for alice');
    expect(await s3Error(carol.send(new GetObjectAclCommand({ Bucket: writer, Key: 'private.txt' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(carol.send(new PutObjectAclCommand({ Bucket: writer, Key: 'private.txt', ACL: 'public-read' })))).toEqual({ name: 'AccessDenied', status: 403 });

    await alice.send(
      new PutObjectAclCommand({
        Bucket: writer,
        Key: 'private.txt',
        AccessControlPolicy: {
          Owner: { ID: ids.alice },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ids.alice }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'AmazonCustomerByEmail', EmailAddress: 'Bob.O@example.com' }, Permission: 'READ_ACP' },
          ],
        },
      }),
    );
    const seenByBob = await bob.send(new GetObjectAclCommand({ Bucket: writer, Key: 'private.txt' }));
    expect(seenByBob.Grants).toEqual([full(ids.alice, 'Alice O.'), { Grantee: { Type: 'CanonicalUser', ID: ids.bob, DisplayName: 'Bob O.' }, Permission: 'READ_ACP' }]);
    // Carol's grant went with the ACL it was in.
    expect(await s3Error(carol.send(new GetObjectCommand({ Bucket: writer, Key: 'private.txt' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(alice.send(new PutObjectAclCommand({ Bucket: writer, Key: 'private.txt', GrantRead: 'emailAddress="nobody@example.com"' })))).toEqual({
      name: 'UnresolvableGrantByEmailAddress',
      status: 400,
    });
    expect(await s3Error(alice.send(new PutObjectAclCommand({ Bucket: writer, Key: 'nothing-here.txt', ACL: 'private' })))).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('ObjectWriter: the writer owns what it writes; the bucket owner reads it only when granted', async () => {
    await bob.send(new PutObjectCommand({ Bucket: writer, Key: 'bob.txt', Body: 'bob wrote this' }));
    expect((await bob.send(new GetObjectAclCommand({ Bucket: writer, Key: 'bob.txt' }))).Owner).toEqual(owner(ids.bob, 'Bob O.'));
    expect(await s3Error(alice.send(new GetObjectCommand({ Bucket: writer, Key: 'bob.txt' })))).toEqual({ name: 'AccessDenied', status: 403 });
    await bob.send(new PutObjectAclCommand({ Bucket: writer, Key: 'bob.txt', ACL: 'bucket-owner-read' }));
    expect(await (await alice.send(new GetObjectCommand({ Bucket: writer, Key: 'bob.txt' }))).Body?.transformToString()).toBe('bob wrote this');
    // Deleting stays a bucket permission, as in S3.
    await alice.send(new DeleteObjectCommand({ Bucket: writer, Key: 'bob.txt' }));
  });

  it('BucketOwnerPreferred: bucket-owner-full-control makes the bucket owner the owner; without it the writer owns', async () => {
    await bob.send(new PutObjectCommand({ Bucket: preferred, Key: 'handed-over.txt', Body: 'x', ACL: 'bucket-owner-full-control' }));
    const handedOver = await alice.send(new GetObjectAclCommand({ Bucket: preferred, Key: 'handed-over.txt' }));
    expect(handedOver.Owner).toEqual(owner(ids.alice, 'Alice O.'));
    expect(handedOver.Grants).toEqual([full(ids.alice, 'Alice O.')]);
    await bob.send(new PutObjectCommand({ Bucket: preferred, Key: 'kept.txt', Body: 'y' }));
    expect((await bob.send(new GetObjectAclCommand({ Bucket: preferred, Key: 'kept.txt' }))).Owner).toEqual(owner(ids.bob, 'Bob O.'));
    expect(await s3Error(alice.send(new GetObjectCommand({ Bucket: preferred, Key: 'kept.txt' })))).toEqual({ name: 'AccessDenied', status: 403 });
  });

  it('keeps an ACL per version (?acl&versionId=), and takes ACLs on CopyObject and multipart uploads', async () => {
    await alice.send(new PutBucketVersioningCommand({ Bucket: writer, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await alice.send(new PutObjectCommand({ Bucket: writer, Key: 'versions.txt', Body: 'one', ACL: 'public-read' }))).VersionId as string;
    const v2 = (await alice.send(new PutObjectCommand({ Bucket: writer, Key: 'versions.txt', Body: 'two' }))).VersionId as string;
    expect((await anonymous(`${writer}/versions.txt`)).status).toBe(403);
    expect(await (await anonymous(`${writer}/versions.txt?versionId=${v1}`)).text()).toBe('one');
    expect((await alice.send(new GetObjectAclCommand({ Bucket: writer, Key: 'versions.txt', VersionId: v1 }))).Grants).toHaveLength(2);
    expect((await alice.send(new GetObjectAclCommand({ Bucket: writer, Key: 'versions.txt', VersionId: v2 }))).Grants).toHaveLength(1);
    const put = await alice.send(new PutObjectAclCommand({ Bucket: writer, Key: 'versions.txt', VersionId: v2, ACL: 'public-read' }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(await (await anonymous(`${writer}/versions.txt`)).text()).toBe('two');

    await alice.send(new CopyObjectCommand({ Bucket: writer, Key: 'copied.txt', CopySource: `${writer}/private.txt`, ACL: 'public-read' }));
    expect(await (await anonymous(`${writer}/copied.txt`)).text()).toBe('for alice');
    const upload = await alice.send(new CreateMultipartUploadCommand({ Bucket: writer, Key: 'multipart.txt', ACL: 'public-read' }));
    const part = await alice.send(new UploadPartCommand({ Bucket: writer, Key: 'multipart.txt', UploadId: upload.UploadId, PartNumber: 1, Body: 'in parts' }));
    await alice.send(new CompleteMultipartUploadCommand({ Bucket: writer, Key: 'multipart.txt', UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(await (await anonymous(`${writer}/multipart.txt`)).text()).toBe('in parts');
  });

  it('PublicAccessBlock applies to object ACLs: BlockPublicAcls refuses public ones, IgnorePublicAcls makes them grant nothing', async () => {
    await alice.send(new PutPublicAccessBlockCommand({ Bucket: writer, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    expect(await s3Error(alice.send(new PutObjectAclCommand({ Bucket: writer, Key: 'private.txt', ACL: 'public-read' })))).toEqual({ name: 'AccessDenied', status: 403 });
    expect(await s3Error(alice.send(new PutObjectCommand({ Bucket: writer, Key: 'blocked.txt', Body: 'x', ACL: 'authenticated-read' })))).toEqual({ name: 'AccessDenied', status: 403 });
    // Already stored public ACLs still count until they are ignored.
    expect((await anonymous(`${writer}/public.txt`)).status).toBe(200);
    await alice.send(new PutPublicAccessBlockCommand({ Bucket: writer, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    expect((await anonymous(`${writer}/public.txt`)).status).toBe(403);
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: writer }));
    expect((await anonymous(`${writer}/public.txt`)).status).toBe(200);
  });

  it('BucketOwnerEnforced: PutObjectAcl takes only the bucket owner\'s full control (AccessControlListNotSupported otherwise)', async () => {
    await alice.send(new PutObjectCommand({ Bucket: enforced, Key: 'e.txt', Body: 'e' }));
    expect(await s3Error(alice.send(new PutObjectAclCommand({ Bucket: enforced, Key: 'e.txt', ACL: 'public-read' })))).toEqual({ name: 'AccessControlListNotSupported', status: 400 });
    await alice.send(new PutObjectAclCommand({ Bucket: enforced, Key: 'e.txt', ACL: 'bucket-owner-full-control' }));
    expect((await alice.send(new GetObjectAclCommand({ Bucket: enforced, Key: 'e.txt' }))).Grants).toEqual([full(ids.alice, 'Alice O.')]);
  });
});

/** A raw request over node:http: Expect: 100-continue and plain Transfer-Encoding: chunked, which fetch cannot send. */
function rawRequest(url: string, method: string, headers: Record<string, string>, chunks: readonly string[]): Promise<{ status: number; body: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(url, { method, headers });
    const send = () => {
      for (const chunk of chunks) req.write(chunk);
      req.end();
    };
    req.on('continue', () => {
      continued = true;
      send();
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        // Refused before its body was asked for: the body is never sent.
        if (!continued) req.destroy();
        resolve({ status: res.statusCode ?? 0, body, continued });
      });
    });
    req.on('error', (error) => (continued ? reject(error) : undefined));
    if (headers['expect'] === undefined) send();
    else req.flushHeaders();
  });
}

describe('everyday S3 (e2e)', () => {
  let dave: S3Client;
  let daveKey: Credentials;

  beforeAll(async () => {
    daveKey = await stack.createAccessKey('ev-dave');
    dave = stack.client(daveKey);
    for (const bucket of ['ev-a1', 'ev-a2', 'ev-b1']) await dave.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);

  afterAll(async () => {
    dave?.destroy();
  });

  it('pages ListBuckets by max-buckets, continuation-token and prefix', async () => {
    const first = await dave.send(new ListBucketsCommand({ MaxBuckets: 2 }));
    expect(first.Buckets?.map((b) => b.Name)).toEqual(['ev-a1', 'ev-a2']);
    expect(first.ContinuationToken).toBeTruthy();
    const second = await dave.send(new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    expect(second.Buckets?.map((b) => b.Name)).toEqual(['ev-b1']);
    expect(second.ContinuationToken).toBeUndefined();
    const prefixed = await dave.send(new ListBucketsCommand({ Prefix: 'ev-a' }));
    expect([prefixed.Buckets?.map((b) => b.Name), prefixed.Prefix]).toEqual([['ev-a1', 'ev-a2'], 'ev-a']);
    expect(await s3Error(dave.send(new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: 'not-ours!' })))).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it('answers a re-creation of an owned bucket in us-east-1 with 200', async () => {
    expect((await dave.send(new CreateBucketCommand({ Bucket: 'ev-a1' }))).$metadata.httpStatusCode).toBe(200);
  });

  it('url-encodes keys in listings with spaces as %20; an empty continuation token is none', async () => {
    await dave.send(new PutObjectCommand({ Bucket: 'ev-a1', Key: 'a dir/b c+d.txt', Body: 'x' }));
    const listing = await fetch(await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1', { query: { 'list-type': '2', 'encoding-type': 'url', 'continuation-token': '', delimiter: '/' } }));
    const xml = await listing.text();
    expect(listing.status).toBe(200);
    expect(xml).toContain('<Prefix>a%20dir/</Prefix>');
    const v1 = await (await fetch(await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1', { query: { 'encoding-type': 'url' } }))).text();
    expect(v1).toContain('<Key>a%20dir/b%20c%2Bd.txt</Key>');
    const versions = await (await fetch(await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1', { query: { versions: '', 'encoding-type': 'url' } }))).text();
    expect(versions).toContain('<Key>a%20dir/b%20c%2Bd.txt</Key>');
  });

  it('names no delete marker or version on a delete in an unversioned bucket', async () => {
    const res = await fetch(await presignUrl(stack.endpoint, daveKey, 'DELETE', '/ev-a1/a%20dir/b%20c%2Bd.txt'), { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect([res.headers.get('x-amz-delete-marker'), res.headers.get('x-amz-version-id')]).toEqual([null, null]);
  });

  it('refuses a presigned X-Amz-Expires of 0', async () => {
    const url = await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1', { expiresInSeconds: 1 });
    const res = await fetch(url.replace('X-Amz-Expires=1', 'X-Amz-Expires=0'));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
  });

  it('answers Expect: 100-continue with the auth decision before the body, and takes plain chunked uploads', async () => {
    const refused = await rawRequest(`${stack.endpoint}/ev-a1/anon.txt`, 'PUT', { expect: '100-continue', 'content-length': '5' }, ['hello']);
    expect([refused.status, refused.continued]).toEqual([403, false]);
    expect(refused.body).toContain('<Code>AccessDenied</Code>');
    const allowed = await rawRequest(await presignUrl(stack.endpoint, daveKey, 'PUT', '/ev-a1/continued.txt'), 'PUT', { expect: '100-continue', 'content-length': '5' }, ['hello']);
    expect([allowed.status, allowed.continued]).toEqual([200, true]);
    const chunked = await rawRequest(await presignUrl(stack.endpoint, daveKey, 'PUT', '/ev-a1/chunked.txt'), 'PUT', { 'transfer-encoding': 'chunked' }, ['one ', 'two ', 'three']);
    expect(chunked.status).toBe(200);
    expect(await (await fetch(await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1/chunked.txt'))).text()).toBe('one two three');
  });

  it('GetObjectAttributes: ETag, size, storage class, checksums and parts', async () => {
    await dave.send(new PutObjectCommand({ Bucket: 'ev-a1', Key: 'attrs.txt', Body: 'attributes', ChecksumAlgorithm: 'CRC32' }));
    const single = await dave.send(new GetObjectAttributesCommand({ Bucket: 'ev-a1', Key: 'attrs.txt', ObjectAttributes: ['ETag', 'ObjectSize', 'StorageClass', 'Checksum', 'ObjectParts'] }));
    expect(single).toMatchObject({ ObjectSize: 10, StorageClass: 'STANDARD', Checksum: { ChecksumCRC32: expect.any(String) } });
    expect(single.ETag).toMatch(/^[0-9a-f]{32}$/);
    expect(single.ObjectParts).toBeUndefined();
    const upload = await dave.send(new CreateMultipartUploadCommand({ Bucket: 'ev-a1', Key: 'parts.bin' }));
    const part = (n: number, size: number) => dave.send(new UploadPartCommand({ Bucket: 'ev-a1', Key: 'parts.bin', UploadId: upload.UploadId, PartNumber: n, Body: Buffer.alloc(size, n) }));
    const parts = [await part(1, 5 * 1024 * 1024), await part(2, 1000)];
    await dave.send(new CompleteMultipartUploadCommand({ Bucket: 'ev-a1', Key: 'parts.bin', UploadId: upload.UploadId, MultipartUpload: { Parts: parts.map((p, i) => ({ ETag: p.ETag, PartNumber: i + 1 })) } }));
    const multi = await dave.send(new GetObjectAttributesCommand({ Bucket: 'ev-a1', Key: 'parts.bin', ObjectAttributes: ['ObjectParts', 'ObjectSize'], MaxParts: 1 }));
    expect(multi.ObjectSize).toBe(5 * 1024 * 1024 + 1000);
    expect(multi.ObjectParts).toMatchObject({ TotalPartsCount: 2, IsTruncated: true, NextPartNumberMarker: '1', Parts: [{ PartNumber: 1, Size: 5 * 1024 * 1024 }] });
    expect(await s3Error(dave.send(new GetObjectAttributesCommand({ Bucket: 'ev-a1', Key: 'attrs.txt', ObjectAttributes: ['Nonsense' as never] })))).toEqual({ name: 'InvalidArgument', status: 400 });
    expect(await s3Error(dave.send(new GetObjectAttributesCommand({ Bucket: 'ev-a1', Key: 'absent', ObjectAttributes: ['ETag'] })))).toEqual({ name: 'NoSuchKey', status: 404 });
  });

  it('keeps non-ASCII user metadata (RFC 2047 in, RFC 2047 out) and refuses a wrong checksum with BadDigest', async () => {
    const word = `=?UTF-8?B?${Buffer.from('日本 été', 'utf8').toString('base64')}?=`;
    await dave.send(new PutObjectCommand({ Bucket: 'ev-a1', Key: 'meta.txt', Body: 'x', Metadata: { city: word } }));
    const head = await fetch(await presignUrl(stack.endpoint, daveKey, 'HEAD', '/ev-a1/meta.txt'), { method: 'HEAD' });
    expect(head.headers.get('x-amz-meta-city')).toBe(word);
    const wrong = await s3Error(dave.send(new PutObjectCommand({ Bucket: 'ev-a1', Key: 'bad.txt', Body: 'payload', ChecksumCRC32: 'AAAAAA==' })));
    expect(wrong).toEqual({ name: 'BadDigest', status: 400 });
  });

  it('answers partNumber errors with S3 codes', async () => {
    const get = async (partNumber: string) => fetch(await presignUrl(stack.endpoint, daveKey, 'GET', '/ev-a1/parts.bin', { query: { partNumber } }));
    const zero = await get('0');
    expect([zero.status, (await zero.text()).match(/<Code>(\w+)<\/Code>/)?.[1]]).toEqual([400, 'InvalidArgument']);
    const beyond = await get('3');
    expect([beyond.status, (await beyond.text()).match(/<Code>(\w+)<\/Code>/)?.[1]]).toEqual([416, 'InvalidPartNumber']);
    expect((await get('2')).status).toBe(206);
  });
});
