import type { AccessControlList } from '@cairn/protocol';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectEncryption, ObjectRetention, ObjectVersionView } from '@cairn/protocol';
import { readChunkedBody } from '../data-path/chunked-body.reader';
import { COPY_SOURCE_SSE_C_PREFIX, customerKeyOf, encryptionResponseHeaders, sseOfWrite } from '../encryption/object-keys';
import { singlePartEtag } from '../s3';
import { writeLockFromHeaders } from './data-protection.handlers';
import type { GatewayDeps } from './gateway-deps';
import { contentHeadersFrom, tagsFromHeader, userMetadataFrom, versionIdHeader } from './object-headers';
import type { S3Exchange } from './s3-exchange';
import { storeUploadBytes } from './upload-body';
import { storeInClass } from '../data-path/storage-class.store';
import { storageClassOfWrite } from './storage-class';
import { renderCopyObjectResult } from '../s3';

/** What the copy's metadata request adds, and its response headers. */
export type CopyPlan =
  | {
      readonly kind: 'metadata';
      readonly extra: { encryption?: ObjectEncryption; retention?: ObjectRetention; legalHold?: boolean };
      readonly responseHeaders: Record<string, string>;
      /** The copy encrypts differently from its source (so a copy onto itself changes something). */
      readonly changesEncryption: boolean;
    }
  | { readonly kind: 'copied' };

interface CopyOptions {
  readonly metadataDirective: 'COPY' | 'REPLACE';
  readonly taggingDirective: 'COPY' | 'REPLACE';
  readonly conditions: { ifMatch?: string; ifNoneMatch?: '*' };
  /** The copy's ACL (objectWriteAclField). */
  readonly acl: { acl?: AccessControlList };
}

/**
 * CopyObject and encryption (docs/encryption.md). An SSE-C source needs its key in the
 * x-amz-copy-source-server-side-encryption-customer-* headers. The destination is encrypted as its
 * own SSE headers say (or its bucket's default):
 * - both encrypted: the copy shares the source's chunks, so its data key — unwrapped with the
 *   source's key-encryption key and wrapped again for the destination's; no bytes move;
 * - one side encrypted, the other not: the bytes are read (decrypted), stored again (encrypted) and
 *   put as a new version — done here, answered here (`copied`);
 * - neither: metadata's plain copy.
 */
export async function planEncryptedCopy(ex: S3Exchange, deps: GatewayDeps, source: ObjectVersionView, options: CopyOptions): Promise<CopyPlan> {
  const sourceCustomer = customerKeyOf(ex.headers, COPY_SOURCE_SSE_C_PREFIX);
  const lock = writeLockFromHeaders(ex, deps.nowMs());
  const sse = sseOfWrite(ex.headers, ex.bucketInfo.encryption);
  const destinationCustomer = sse?.scheme === 'SSE-C' ? sse.customer : undefined;
  const sourceKey = deps.objectKeys.dataKeyOf(source.encryption, sourceCustomer);
  if (sourceKey === undefined && sse === undefined) return { kind: 'metadata', extra: lock, responseHeaders: {}, changesEncryption: false };
  if (sourceKey !== undefined && sse !== undefined) {
    const encryption = deps.objectKeys.wrapFor(sse, sourceKey);
    return {
      kind: 'metadata',
      extra: { ...lock, encryption },
      responseHeaders: encryptionResponseHeaders(encryption, destinationCustomer),
      changesEncryption: true,
    };
  }
  // Plain to encrypted, or encrypted to plain: the bytes themselves change.
  const destination = sse ? deps.objectKeys.newDataKey(sse) : undefined;
  const md5 = createHash('md5');
  const hashed = async function* (pieces: AsyncIterable<Buffer>) {
    for await (const piece of pieces) {
      md5.update(piece);
      yield piece;
    }
  };
  const bytes = Readable.from(hashed(readChunkedBody(deps.chunks, source.chunks, 0, source.sizeBytes, deps.readBudget, undefined, sourceKey)), { objectMode: false });
  const storageClass = storageClassOfWrite(ex);
  const { stored } = await storeInClass(deps.chunks, storageClass, async (chunks) => ({ stored: await storeUploadBytes({ ...deps, chunks }, bytes, source.sizeBytes, destination?.dataKey) }));
  const replace = options.metadataDirective === 'REPLACE';
  const tags = options.taggingDirective === 'REPLACE' ? (tagsFromHeader(ex.header('x-amz-tagging')) ?? []) : source.tags;
  const reply = await deps.metadata.putObject({
    bucket: ex.bucket,
    key: ex.key,
    sizeBytes: stored.sizeBytes,
    etag: singlePartEtag(md5.digest()),
    checksums: source.checksums,
    contentType: replace ? ex.header('content-type') : (source.contentType ?? undefined),
    userMetadata: replace ? userMetadataFrom(ex.headers) : source.userMetadata,
    contentHeaders: replace ? contentHeadersFrom(ex.headers) : source.contentHeaders,
    chunks: stored.chunks,
    storageClass,
    tags,
    ...options.conditions,
    ...lock,
    ...options.acl,
    ...(destination ? { encryption: destination.encryption } : {}),
  });
  ex.sendXml(renderCopyObjectResult({ lastModified: new Date(reply.lastModified), etag: reply.etag }), {
    ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId),
    ...(ex.route?.copySource?.versionId ? { 'x-amz-copy-source-version-id': source.versionId } : {}),
    ...encryptionResponseHeaders(destination?.encryption, destinationCustomer),
  });
  return { kind: 'copied' };
}
