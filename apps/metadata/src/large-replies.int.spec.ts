import { METADATA_SERVICE, MetadataRpc, type CreateBucketReply, type ListObjectsV2Reply, type ListObjectVersionsReply, type PutObjectReply } from '@cairn/protocol';
import { RpcClient } from '@cairn/messaging';
import { runPool, type RunningService } from '@cairn/service-kit';
import { eventually, testNamespace } from '@cairn/testing';
import type { MetadataConfig } from './metadata.config';
import { body, RPC_TIMEOUT_MS } from './testing/rpc-test-helpers';
import { bootTwoInstances, closeTwoInstances } from './testing/two-instances';

/** S3 allows keys of up to 1,024 bytes; a full page of them is more than one default NATS message. */
const KEY_BYTES = 1_000;
const KEYS = 1_000;

describe('replies larger than a NATS message (real JetStream and Postgres)', () => {
  const ns = testNamespace();
  let a: RunningService<MetadataConfig>;
  let b: RunningService<MetadataConfig>;
  let rpc: RpcClient;
  const call = <T>(pattern: string, payload: unknown) => rpc.request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS });
  const keyOf = (i: number) => `${String(i).padStart(4, '0')}/${'k'.repeat(KEY_BYTES - 5)}`;

  beforeAll(async () => {
    [a, b] = await bootTwoInstances(ns, {});
    rpc = a.app.get(RpcClient);
  }, 60_000);

  afterAll(() => closeTwoInstances(ns, a, b), 60_000);

  it('lists a page of 1,000 keys of 1,000 bytes each', async () => {
    await call<CreateBucketReply>(MetadataRpc.createBucket, { bucket: 'long-keys', owner: 'alice' });
    let last = 0;
    await runPool(Array.from({ length: KEYS }, (_, i) => i), 32, undefined, async (i) => {
      const put = await call<PutObjectReply>(MetadataRpc.putObject, { bucket: 'long-keys', ...body(keyOf(i), `content ${i}`) });
      last = Math.max(last, put.sequence);
    });
    // The projection applies 1,000 puts in a few seconds; wait for it, then list.
    await eventually(() => call(MetadataRpc.listObjectsV2, { bucket: 'long-keys', maxKeys: 1, minSequence: last }).catch(() => undefined), 60_000);
    const listed = await call<ListObjectsV2Reply>(MetadataRpc.listObjectsV2, { bucket: 'long-keys', maxKeys: KEYS });
    expect(listed.contents.map((c) => c.key)).toEqual(Array.from({ length: KEYS }, (_, i) => keyOf(i)));
    const versions = await call<ListObjectVersionsReply>(MetadataRpc.listObjectVersions, { bucket: 'long-keys', maxKeys: KEYS });
    expect(versions.versions).toHaveLength(KEYS);
  }, 120_000);
});
