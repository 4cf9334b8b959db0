import { METADATA_SERVICE, MetadataRpc } from '@cairn/protocol';
import { RpcClient } from '@cairn/messaging';
import { PostgresConnection, runPool, type RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace } from '@cairn/testing';
import type { MetadataConfig } from '../metadata.config';
import { MetadataService } from '../service';
import { md5, RPC_TIMEOUT_MS, sha256 } from './rpc-test-helpers';

type Instance = RunningService<MetadataConfig>;

/**
 * Two metadata instances (metadata-a, metadata-b) in one namespace, both listening: the first
 * creates the schema and runs the migrations; the second then finds them.
 */
export async function bootTwoInstances(ns: string, env: Record<string, string>): Promise<readonly [Instance, Instance]> {
  const a = await bootForTest(MetadataService, ns, { ...env, CAIRN_INSTANCE: 'metadata-a' });
  try {
    await a.app.get(PostgresConnection).ready();
    const b = await bootForTest(MetadataService, ns, { ...env, CAIRN_INSTANCE: 'metadata-b' });
    await Promise.all([a.transport.started, b.transport.started]);
    return [a, b];
  } catch (error) {
    await a.close();
    throw error;
  }
}

/** Closes what bootTwoInstances started (b first) and drops the namespace. */
export async function closeTwoInstances(ns: string, a: Instance | undefined, b: Instance | undefined): Promise<void> {
  await b?.close();
  await a?.close();
  await dropNamespace(ns);
}

export interface TwoInstances {
  readonly a: Instance;
  readonly b: Instance;
  /** A metadata RPC, sent through instance a's client. */
  call<T>(pattern: string, payload: unknown): Promise<T>;
}

/**
 * A spec file's two instances (Jest hooks): booted before its tests, `prepare` run on them, then
 * `bucket` created (owner alice); closed after its tests, the namespace dropped.
 */
export function twoInstancesWithBucket(ns: string, bucket: string, prepare?: (a: Instance, b: Instance) => Promise<void>): TwoInstances {
  let booted: readonly [Instance, Instance] | undefined;
  const two: TwoInstances = {
    get a() {
      return booted![0];
    },
    get b() {
      return booted![1];
    },
    call: <T>(pattern: string, payload: unknown) => two.a.app.get(RpcClient).request<T>(METADATA_SERVICE, pattern, payload, { timeoutMs: RPC_TIMEOUT_MS }),
  };
  beforeAll(async () => {
    booted = await bootTwoInstances(ns, {});
    await prepare?.(...booted);
    await two.call(MetadataRpc.createBucket, { bucket, owner: 'alice' });
  }, 60_000);
  afterAll(() => closeTwoInstances(ns, booted?.[0], booted?.[1]), 60_000);
  return two;
}

/** Parts 1..`parts` of one chunk of 1 KiB each, registered `inFlight` at a time: a burst of UploadPart events. */
export async function uploadSmallParts(two: TwoInstances, bucket: string, uploadId: string, parts: number, inFlight: number): Promise<void> {
  await runPool(Array.from({ length: parts }, (_, i) => i + 1), inFlight, undefined, async (partNumber) => {
    await two.call(MetadataRpc.uploadPart, {
      bucket,
      uploadId,
      partNumber,
      etag: md5(`p${partNumber}`),
      sizeBytes: 1024,
      chunks: [{ hash: sha256(`p${partNumber}`), offsetBytes: 0, sizeBytes: 1024 }],
    });
  });
}
