import type { RequestTarget } from '../s3/routing/request-target';
import { S3Error } from '../s3';
import type { S3Exchange } from '../s3-gateway/s3-exchange';
import type { MasterKeyRotation } from './master-key-rotation';
import type { ObjectKeys } from './object-keys';

/** The key service's admin API, under the gateway (root key only, SigV4 signed like any S3 request). */
export const KEY_ADMIN_PATH = '/_cairn/admin/keys';

export function isKeyAdminPath(rawPath: string): boolean {
  return rawPath === KEY_ADMIN_PATH || rawPath.startsWith(`${KEY_ADMIN_PATH}/`);
}

/**
 * GET  /_cairn/admin/keys          master key versions (current first) and SSE-KMS keys; never key material
 * POST /_cairn/admin/keys/rotate   a new master key version, then every SSE-S3 data key re-wrapped under it
 * POST /_cairn/admin/keys/rewrap   re-wrap only (finishes a rotation that was interrupted)
 * POST /_cairn/admin/keys/kms?description=…  a new named SSE-KMS key: { keyId }
 */
export class KeyAdminHandler {
  constructor(
    private readonly objectKeys: ObjectKeys,
    private readonly rotation: MasterKeyRotation,
  ) {}

  async serve(exchange: S3Exchange, target: RequestTarget): Promise<void> {
    if (!exchange.caller.isRoot) throw new S3Error('AccessDenied', 'Only the root key may administer keys.');
    const keys = this.objectKeys.keyService;
    if (!keys) throw new S3Error('NotImplemented', 'No keyring is configured on this gateway (CAIRN_MASTER_KEY_FILE).');
    const action = target.rawPath.slice(KEY_ADMIN_PATH.length);
    const method = exchange.method;
    let body: unknown;
    if (action === '' && method === 'GET') {
      body = { currentMasterVersion: keys.currentMasterVersion, masterVersions: keys.masterVersions(), kmsKeys: keys.listKmsKeys() };
    } else if (action === '/rotate' && method === 'POST') {
      body = await this.rotation.rotate();
    } else if (action === '/rewrap' && method === 'POST') {
      body = await this.rotation.rewrapAll();
    } else if (action === '/kms' && method === 'POST') {
      const description = target.query.find((q) => q.name === 'description')?.value;
      if (description !== undefined && !/^[\x20-\x7e]{0,256}$/.test(description)) throw new S3Error('InvalidArgument', 'description must be up to 256 printable ASCII characters.');
      body = keys.createKmsKey(description || undefined);
    } else {
      throw new S3Error('MethodNotAllowed', `${method} ${target.rawPath} is not a key admin operation.`);
    }
    exchange.req.resume();
    const text = JSON.stringify(body);
    exchange.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    exchange.res.end(text);
  }
}
