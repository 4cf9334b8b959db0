import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { isInlineChunk, type ChunkRef, type ObjectVersionView } from '@cairn/protocol';
import {
  S3Error,
  assertCopySourcePreconditions,
  assertReadPreconditions,
  checksumResponseHeaders,
  parseDeleteObjects,
  parseTagging,
  renderCopyObjectResult,
  renderDeleteResult,
  renderTagging,
  resolveRange,
  selectPart,
  singlePartEtag,
  type DeleteErrorView,
  type DeletedView,
} from '../s3';
import { readChunkedBody, verifiedInlineBytes } from '../data-path/chunked-body.reader';
import { objectWriteAclField } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { isAbsent, mapError } from './metadata-errors';
import {
  checksumHeadersOf,
  contentHeadersFrom,
  objectHeaders,
  responseOverridesFrom,
  tagsFromHeader,
  toChecksums,
  userMetadataFrom,
  versionIdHeader,
  writeConditionsFrom,
} from './object-headers';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';
import { receiveUploadBody } from './upload-body';
import { storeInClass } from '../data-path/storage-class.store';
import { classChangingCopy, storageClassFromHeaders, storageClassOfWrite } from './storage-class';
import { customerKeyOf, encryptionResponseHeaders, sseOfWrite } from '../encryption/object-keys';
import { bypassOf, lockResponseHeaders, writeLockFromHeaders } from './data-protection.handlers';
import { planEncryptedCopy } from './encrypted-copy';
import { requesterOf } from './requester';

/** DeleteObjects deletes this many keys at a time. */
export const DELETE_OBJECTS_CONCURRENCY = 8;

export class ObjectHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly putObject = async (ex: S3Exchange): Promise<void> => {
    const acl = await objectWriteAclField(ex, this.deps.users);
    const conditions = writeConditionsFrom(ex.headers);
    const userMetadata = userMetadataFrom(ex.headers);
    const contentHeaders = contentHeadersFrom(ex.headers);
    const tags = tagsFromHeader(ex.header('x-amz-tagging'));
    const lock = writeLockFromHeaders(ex, this.deps.nowMs());
    const sse = sseOfWrite(ex.headers, ex.bucketInfo.encryption);
    const objectKey = sse ? this.deps.objectKeys.newDataKey(sse) : undefined;
    const storageClass = storageClassOfWrite(ex);
    const { stored, digests } = await storeInClass(this.deps.chunks, storageClass, (chunks) => receiveUploadBody(ex, { ...this.deps, chunks }, objectKey?.dataKey));
    const reply = await this.deps.metadata.putObject({
      ...requesterOf(ex),
      ...(objectKey ? { encryption: objectKey.encryption } : {}),
      ...lock,
      ...acl,
      bucket: ex.bucket,
      key: ex.key,
      sizeBytes: stored.sizeBytes,
      etag: singlePartEtag(digests.md5),
      checksums: toChecksums(digests.checksums),
      contentType: ex.header('content-type'),
      userMetadata,
      contentHeaders,
      chunks: stored.chunks,
      storageClass,
      ...(tags ? { tags } : {}),
      ...conditions,
    });
    ex.sendEmpty({
      ETag: `"${reply.etag}"`,
      ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId),
      ...checksumResponseHeaders(digests.checksums),
      ...encryptionResponseHeaders(objectKey?.encryption, sse?.scheme === 'SSE-C' ? sse.customer : undefined),
    });
  };

  readonly headObject = async (ex: S3Exchange): Promise<void> => this.serveObject(ex, false);

  readonly getObject = async (ex: S3Exchange): Promise<void> => this.serveObject(ex, true);

  readonly deleteObject = async (ex: S3Exchange): Promise<void> => {
    const versionId = ex.route?.versionId;
    // S3's conditional delete: decided by metadata with the delete, against the current version.
    const ifMatch = ex.header('if-match');
    try {
      const reply = await this.deps.metadata.deleteObject({
        ...requesterOf(ex),
        bucket: ex.bucket,
        key: ex.key,
        ...(versionId ? { versionId } : {}),
        ...(versionId && bypassOf(ex) ? { bypassGovernanceRetention: true } : {}),
        ...(ifMatch === undefined ? {} : { ifMatch }),
      });
      // S3 names delete markers and versions only in buckets that have had versioning on.
      const versioned = ex.bucketInfo.versioning !== 'Unversioned';
      ex.sendEmpty(
        {
          ...(reply.deleteMarker && versioned ? { 'x-amz-delete-marker': 'true' } : {}),
          ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId),
        },
        204,
      );
    } catch (error) {
      // S3 answers a delete of something absent as a success, unless it was conditional (404 NoSuchKey).
      if (isAbsent(error) && ifMatch === undefined) ex.sendEmpty({}, 204);
      else throw error;
    }
  };

  readonly deleteObjects = async (ex: S3Exchange): Promise<void> => {
    const request = parseDeleteObjects(await readXmlBody(ex.req, ex.caller));
    const deleted: DeletedView[] = [];
    const errors: DeleteErrorView[] = [];
    const queue = [...request.objects];
    const worker = async () => {
      for (let object = queue.shift(); object; object = queue.shift()) {
        if (ex.mayDeleteObject && !ex.mayDeleteObject(object.key, object.versionId)) {
          errors.push({ key: object.key, versionId: object.versionId, code: 'AccessDenied', message: 'Access Denied' });
          continue;
        }
        try {
          const reply = await this.deps.metadata.deleteObject({
            ...requesterOf(ex),
            bucket: ex.bucket,
            key: object.key,
            ...(object.versionId ? { versionId: object.versionId } : {}),
            ...(object.versionId && bypassOf(ex, object.key) ? { bypassGovernanceRetention: true } : {}),
            ...(object.etag === undefined ? {} : { ifMatch: object.etag }),
          });
          deleted.push({
            key: object.key,
            versionId: object.versionId,
            ...(reply.deleteMarker ? { deleteMarker: true } : {}),
            ...(reply.deleteMarker && !object.versionId ? { deleteMarkerVersionId: reply.versionId } : {}),
          });
        } catch (error) {
          if (isAbsent(error) && object.etag === undefined) deleted.push({ key: object.key, versionId: object.versionId });
          else {
            const mapped = mapError(error).error;
            errors.push({ key: object.key, versionId: object.versionId, code: mapped.code, message: mapped.message });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_OBJECTS_CONCURRENCY }, worker));
    ex.sendXml(renderDeleteResult(deleted, errors, request.quiet));
  };

  readonly copyObject = async (ex: S3Exchange): Promise<void> => {
    const source = ex.route?.copySource;
    if (!source) throw new S3Error('InvalidArgument', 'x-amz-copy-source is required');
    const acl = await objectWriteAclField(ex, this.deps.users);
    const conditions = writeConditionsFrom(ex.headers);
    const metadataDirective = directive(ex.header('x-amz-metadata-directive'), 'x-amz-metadata-directive');
    const taggingDirective = directive(ex.header('x-amz-tagging-directive'), 'x-amz-tagging-directive');
    const sourceView = await this.deps.metadata.headObject({ bucket: source.bucket, key: source.key, ...(source.versionId ? { versionId: source.versionId } : {}) });
    assertCopySourcePreconditions(ex.headers, { etag: sourceView.etag ?? '', lastModified: new Date(sourceView.lastModified) }, this.deps.nowMs());
    const plan = await planEncryptedCopy(ex, this.deps, sourceView, { metadataDirective, taggingDirective, conditions, acl });
    if (plan.kind === 'copied') return;
    const changesClass = (storageClassFromHeaders(ex.headers) ?? sourceView.storageClass) !== sourceView.storageClass;
    if (source.bucket === ex.bucket && source.key === ex.key && metadataDirective === 'COPY' && taggingDirective === 'COPY' && !source.versionId && !changesClass && !plan.changesEncryption) {
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const tags = taggingDirective === 'REPLACE' ? (tagsFromHeader(ex.header('x-amz-tagging')) ?? []) : undefined;
    const classChange = await classChangingCopy(this.deps, sourceView, storageClassFromHeaders(ex.headers));
    const reply = await this.deps.metadata.copyObject({
      ...requesterOf(ex),
      ...classChange,
      bucket: ex.bucket,
      key: ex.key,
      sourceBucket: source.bucket,
      sourceKey: source.key,
      sourceVersionId: sourceView.versionId,
      metadataDirective,
      taggingDirective,
      ...(metadataDirective === 'REPLACE'
        ? { contentType: ex.header('content-type'), userMetadata: userMetadataFrom(ex.headers), contentHeaders: contentHeadersFrom(ex.headers) }
        : {}),
      ...(tags ? { tags } : {}),
      ...conditions,
      ...plan.extra,
      ...acl,
    });
    ex.sendXml(renderCopyObjectResult({ lastModified: new Date(reply.lastModified), etag: reply.etag }), {
      ...plan.responseHeaders,
      ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId),
      ...(source.versionId ? { 'x-amz-copy-source-version-id': reply.sourceVersionId } : {}),
    });
  };

  readonly getObjectTagging = async (ex: S3Exchange): Promise<void> => {
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    ex.sendXml(renderTagging(view.tags), versionIdHeader(ex.bucketInfo.versioning, view.versionId));
  };

  readonly putObjectTagging = async (ex: S3Exchange): Promise<void> => {
    const tags = parseTagging(await readXmlBody(ex.req, ex.caller));
    const reply = await this.deps.metadata.putObjectTags({ bucket: ex.bucket, key: ex.key, tags, ...versionOf(ex) });
    ex.sendEmpty(versionIdHeader(ex.bucketInfo.versioning, reply.versionId));
  };

  readonly deleteObjectTagging = async (ex: S3Exchange): Promise<void> => {
    const reply = await this.deps.metadata.deleteObjectTags({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    ex.sendEmpty(versionIdHeader(ex.bucketInfo.versioning, reply.versionId), 204);
  };

  private async serveObject(ex: S3Exchange, withBody: boolean): Promise<void> {
    const overrides = responseOverridesFrom((name) => ex.query(name));
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex), ...requesterOf(ex) });
    const customer = customerKeyOf(ex.headers);
    // Every read of an SSE-C version needs its key, HEAD and ranges included; a GET unwraps the data key.
    const dataKey = withBody ? this.deps.objectKeys.dataKeyOf(view.encryption, customer) : (this.deps.objectKeys.checkCustomerKey(view.encryption, customer), undefined);
    const headers = { ...objectHeaders(view, ex.bucketInfo.versioning), ...encryptionResponseHeaders(view.encryption, customer), ...lockResponseHeaders(view) };
    try {
      assertReadPreconditions(ex.headers, { etag: view.etag ?? '', lastModified: new Date(view.lastModified) }, this.deps.nowMs());
    } catch (error) {
      if (error instanceof S3Error && error.code === 'NotModified') {
        ex.sendError(error, { ETag: headers['ETag'], 'Last-Modified': headers['Last-Modified'], ...versionIdHeader(ex.bucketInfo.versioning, view.versionId) });
        return;
      }
      throw error;
    }
    const served = servedBytes(ex, view);
    if (served.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(served.partsCount);
    Object.assign(headers, overrides);
    const wantChecksums = ex.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
    // The stored checksums are of the whole object: only a response of the whole object carries them.
    if (wantChecksums && served.contentRange === undefined && served.partsCount === undefined) Object.assign(headers, checksumHeadersOf(view.checksums));
    const { start, endExclusive, status } = served;
    headers['Content-Length'] = String(endExclusive - start);
    if (served.contentRange !== undefined) headers['Content-Range'] = served.contentRange;
    if (!withBody || endExclusive === start) {
      ex.writeHead(status, headers);
      ex.res.end();
      return;
    }
    const inline = dataKey ? undefined : inlineBytes(view.chunks, start, endExclusive);
    if (inline) {
      // A small object kept in metadata: its bytes are here already, one write answers.
      ex.writeHead(status, headers);
      ex.res.end(inline);
      return;
    }
    const pieces = readChunkedBody(this.deps.chunks, view.chunks, start, endExclusive, this.deps.readBudget, undefined, dataKey, this.deps.readSlabs);
    // The first chunk is opened before the status line, so a read that fails at once is a clean error.
    const first = await pieces.next();
    try {
      ex.writeHead(status, headers);
    } catch (error) {
      await pieces.return(undefined); // gives the chunk's read budget back
      throw error;
    }
    await sendPieces(ex.res, first, pieces);
  }
}

/** The bytes a GET or HEAD answers with: the whole object, a Range of it, or one part (`?partNumber=N`). */
interface ServedBytes {
  readonly start: number;
  readonly endExclusive: number;
  readonly status: 200 | 206;
  readonly contentRange?: string;
  /** Set when a part of a multipart object was asked for (S3's x-amz-mp-parts-count). */
  readonly partsCount?: number;
}

function servedBytes(ex: S3Exchange, view: ObjectVersionView): ServedBytes {
  const partNumber = ex.route?.partNumber;
  if (partNumber === undefined) {
    const range = resolveRange(ex.headers, view.sizeBytes);
    if (range.kind === 'partial') return { start: range.start, endExclusive: range.endInclusive + 1, status: 206, contentRange: range.contentRange };
    return { start: 0, endExclusive: view.sizeBytes, status: 200 };
  }
  if (ex.header('range') !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter.');
  if (view.partSizes === null && view.uploadId !== null) {
    // Completed before part sizes were recorded: where its parts begin is not known.
    throw new S3Error('NotImplemented', 'GetObject by partNumber is not available for this multipart object.');
  }
  const part = selectPart(view, partNumber);
  switch (part.kind) {
    case 'whole-object':
      return { start: 0, endExclusive: view.sizeBytes, status: 200 };
    case 'unsatisfiable':
      throw new S3Error('InvalidPartNumber', undefined, { PartNumberRequested: String(partNumber), ActualPartCount: String(part.partsCount) });
    case 'part':
      return part.contentRange === null
        ? { start: part.start, endExclusive: part.start, status: 200, partsCount: part.partsCount }
        : { start: part.start, endExclusive: part.endInclusive + 1, status: 206, contentRange: part.contentRange, partsCount: part.partsCount };
    default:
      return assertNeverPart(part);
  }
}

function assertNeverPart(part: never): never {
  throw new Error(`unknown part selection ${JSON.stringify(part)}`);
}

/** The bytes asked for when they all lie in one inline chunk (verified), else undefined. */
function inlineBytes(chunks: readonly ChunkRef[], start: number, endExclusive: number): Buffer | undefined {
  const chunk = chunks.find((c) => c.offsetBytes <= start && endExclusive <= c.offsetBytes + c.sizeBytes);
  if (!chunk || !isInlineChunk(chunk)) return undefined;
  return verifiedInlineBytes(chunk).subarray(start - chunk.offsetBytes, endExclusive - chunk.offsetBytes);
}

/**
 * Writes the body piece by piece, asking for the next piece only once the socket has taken the
 * last one: a piece may be a view of a reused slab (readChunkedBody with slabs) that must not be
 * refilled while a write still holds it, and the read budget is given back for bytes sent, not
 * queued. The next chunk is read ahead meanwhile. A failed read cuts the response short.
 */
async function sendPieces(res: ServerResponse, first: IteratorResult<Buffer>, rest: AsyncGenerator<Buffer>): Promise<void> {
  try {
    for (let step = first; !step.done; step = await rest.next()) await written(res, step.value);
    res.end();
    await finished(res);
  } catch (error) {
    res.destroy(error as Error);
    throw error;
  } finally {
    await rest.return(undefined);
  }
}

function written(res: ServerResponse, bytes: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Coded as Node codes a stream cut short, so the gateway logs it as a client that went away.
    const onClose = () => reject(Object.assign(new Error('the response closed before its body was sent'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    res.once('close', onClose);
    res.write(bytes, (error) => {
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

function versionOf(ex: S3Exchange): { versionId?: string } {
  const versionId = ex.route?.versionId;
  return versionId ? { versionId } : {};
}

function directive(value: string | undefined, header: string): 'COPY' | 'REPLACE' {
  if (value === undefined) return 'COPY';
  const upper = value.trim().toUpperCase();
  if (upper === 'COPY' || upper === 'REPLACE') return upper;
  throw new S3Error('InvalidArgument', `Unknown ${header} value`, { ArgumentName: header, ArgumentValue: value });
}

