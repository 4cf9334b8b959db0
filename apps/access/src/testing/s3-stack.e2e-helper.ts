import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { RpcClient } from '@cairn/messaging';
import { METADATA_SERVICE, MetadataRpc, type CreateAccessKeyReply, type GetAccessKeyReply, type ListNodesReply } from '@cairn/protocol';
import type { RunningService } from '@cairn/service-kit';
import { bootForTest, dropNamespace, eventually, startServiceProcess, testNamespace, type ServiceProcess } from '@cairn/testing';
import type { AccessConfig } from '../access.config';
import { AccessService } from '../service';

export const E2E_ROOT_ACCESS_KEY = 'CAIRNE2EROOTACCESSKEY';
export const E2E_ROOT_SECRET_KEY = 'cairn-e2e-root-secret-key-0000000000000';
export const E2E_REGION = 'us-east-1';
export const STORAGE_NODE_COUNT = 3;
/** Chunks small enough that a few MiB span several of them (the default is 8 MiB). */
export const E2E_CHUNK_SIZE_BYTES = 1024 * 1024;
const STACK_READY_TIMEOUT_MS = 60_000;

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A region on this machine: metadata and three storage nodes as processes, access in-process. */
export interface S3Stack {
  readonly namespace: string;
  readonly access: RunningService<AccessConfig>;
  readonly endpoint: string;
  readonly root: Credentials;
  readonly processes: readonly ServiceProcess[];
  /** The storage nodes' data directories are `<dataRoot>/storage-<n>`. */
  readonly dataRoot: string;
  client(credentials?: Credentials, overrides?: Record<string, unknown>): S3Client;
  createAccessKey(owner: string): Promise<Credentials>;
  revokeAccessKey(accessKeyId: string): Promise<void>;
  /** One more access instance on the same region (with extra settings, e.g. HTTPS), stopped with the stack. */
  startGateway(env?: Record<string, string>): Promise<{ readonly endpoint: string; client(credentials?: Credentials, overrides?: Record<string, unknown>): S3Client }>;
  stop(): Promise<void>;
}

/**
 * The gateways' caches are trusted this long in the e2e region: far longer than any test, so a
 * change seen through another gateway proves it was heard of, not that a cache expired.
 */
export const E2E_CACHE_TTL_MS = 10 * 60_000;

export interface S3StackOptions {
  /** Extra settings for every service of the stack, processes and in-process gateways alike (e.g. CAIRN_OTLP_ENDPOINT). */
  readonly env?: Record<string, string>;
}

export async function startS3Stack(options: S3StackOptions = {}): Promise<S3Stack> {
  const namespace = testNamespace();
  const dataRoot = await fsp.mkdtemp(path.join(os.tmpdir(), 'cairn-access-e2e-'));
  const processes: ServiceProcess[] = [];
  let access: RunningService<AccessConfig> | undefined;
  const gateways: RunningService<AccessConfig>[] = [];
  const stackEnv = options.env ?? {};
  const gatewayEnv = { ...stackEnv, CAIRN_CHUNK_SIZE_BYTES: String(E2E_CHUNK_SIZE_BYTES), CAIRN_CACHE_TTL_MS: String(E2E_CACHE_TTL_MS) };
  const stop = async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await access?.close();
    await Promise.all(processes.map((p) => p.stop()));
    await dropNamespace(namespace);
    await fsp.rm(dataRoot, { recursive: true, force: true });
  };
  try {
    processes.push(
      await startServiceProcess({
        app: 'metadata',
        env: { ...stackEnv, CAIRN_NS: namespace, CAIRN_INSTANCE: 'metadata-e2e', CAIRN_ROOT_ACCESS_KEY: E2E_ROOT_ACCESS_KEY, CAIRN_ROOT_SECRET_KEY: E2E_ROOT_SECRET_KEY },
      }),
    );
    // Storage nodes register with metadata on start, so they come after it.
    const nodes = await Promise.all(
      Array.from({ length: STORAGE_NODE_COUNT }, (_, i) =>
        startServiceProcess({
          app: 'storage',
          env: { ...stackEnv, CAIRN_NS: namespace, CAIRN_INSTANCE: `storage-${i + 1}`, CAIRN_DATA_DIR: path.join(dataRoot, `storage-${i + 1}`) },
        }),
      ),
    );
    processes.push(...nodes);
    access = await bootForTest(AccessService, namespace, gatewayEnv);
    const rpc = access.app.get(RpcClient);
    await eventually(async () => {
      const reply = await rpc.request<ListNodesReply>(METADATA_SERVICE, MetadataRpc.listNodes, {}).catch(() => undefined);
      return reply && reply.nodes.length === STORAGE_NODE_COUNT ? reply : undefined;
    }, STACK_READY_TIMEOUT_MS);
    // metadata creates the root key from its environment after it starts listening.
    await eventually(
      () => rpc.request<GetAccessKeyReply>(METADATA_SERVICE, MetadataRpc.getAccessKey, { accessKeyId: E2E_ROOT_ACCESS_KEY }).then(() => true, () => false),
      STACK_READY_TIMEOUT_MS,
      100,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const running = access;
  const endpoint = running.url;
  const root = { accessKeyId: E2E_ROOT_ACCESS_KEY, secretAccessKey: E2E_ROOT_SECRET_KEY };
  return {
    namespace,
    access: running,
    endpoint,
    root,
    processes,
    dataRoot,
    client: (credentials = root, overrides = {}) => clientOf(endpoint, credentials, overrides),
    createAccessKey: async (owner) => {
      const reply = await running.app.get(RpcClient).request<CreateAccessKeyReply>(METADATA_SERVICE, MetadataRpc.createAccessKey, { owner });
      return { accessKeyId: reply.accessKeyId, secretAccessKey: reply.secretAccessKey };
    },
    revokeAccessKey: async (accessKeyId) => {
      await running.app.get(RpcClient).request(METADATA_SERVICE, MetadataRpc.revokeAccessKey, { accessKeyId });
    },
    startGateway: async (env = {}) => {
      const gateway = await bootForTest(AccessService, namespace, { ...gatewayEnv, CAIRN_INSTANCE: `access-${gateways.length + 2}`, ...env });
      gateways.push(gateway);
      return { endpoint: gateway.url, client: (credentials = root, overrides = {}) => clientOf(gateway.url, credentials, overrides) };
    },
    stop,
  };
}

function clientOf(endpoint: string, credentials: Credentials, overrides: Record<string, unknown> = {}): S3Client {
  return new S3Client({ endpoint, region: E2E_REGION, forcePathStyle: true, credentials, ...overrides });
}

export interface PresignOptions {
  readonly query?: Record<string, string>;
  readonly signedAt?: Date;
  readonly expiresInSeconds?: number;
  /** The region the URL is signed for (the gateway's own by default). */
  readonly region?: string;
}

/** A presigned URL as @aws-sdk/s3-request-presigner makes it: the SDK's signer over an UNSIGNED-PAYLOAD request. */
export async function presignUrl(endpoint: string, credentials: Credentials, method: string, path: string, options: PresignOptions = {}): Promise<string> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({ credentials, region: options.region ?? E2E_REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
  const signed = await signer.presign(
    new HttpRequest({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query: options.query ?? {}, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }),
    { expiresIn: options.expiresInSeconds ?? 300, signingDate: options.signedAt ?? new Date() },
  );
  const search = Object.entries(signed.query ?? {})
    .map(([name, value]) => (value === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`))
    .join('&');
  return `${endpoint}${signed.path}?${search}`;
}

/** The S3 error a request failed with (its code, HTTP status and message); throws if it succeeded or failed otherwise. */
export async function s3Failure(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** s3Failure without the message: the error's code and HTTP status. */
export async function s3Error(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
  const { name, status } = await s3Failure(promise);
  return { name, status };
}
