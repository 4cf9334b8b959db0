import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  MAX_SINGLE_PUT_SIZE_BYTES,
  S3Error,
  assertCopySourcePreconditions,
  checksumResponseHeaders,
  parseCompleteMultipartUpload,
  renderCompleteMultipartUploadResult,
  renderCopyPartResult,
  renderInitiateMultipartUploadResult,
  singlePartEtag,
} from '../s3';
import { readChunkedBody } from '../data-path/chunked-body.reader';
import { objectWriteAclField } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { checksumTypeOf, checksumValuesOf, claimedChecksumsFrom, contentHeadersFrom, uploadChecksumFrom, uploadChecksumHeaders, tagsFromHeader, toChecksums, userMetadataFrom, versionIdHeader, writeConditionsFrom } from './object-headers';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';
import { receiveUploadBody, storeUploadBytes } from './upload-body';
import { COPY_SOURCE_SSE_C_PREFIX, customerKeyOf, encryptionResponseHeaders, sseOfWrite } from '../encryption/object-keys';
import { writeLockFromHeaders } from './data-protection.handlers';
import { storeInClass } from '../data-path/storage-class.store';
import { storageClassOfWrite, uploadClasses } from './storage-class';

const COPY_SOURCE_RANGE_PATTERN = /^bytes=(\d{1,15})-(\d{1,15})$/;

export class MultipartHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly createMultipartUpload = async (ex: S3Exchange): Promise<void> => {
    const acl = await objectWriteAclField(ex, this.deps.users);
    const tags = tagsFromHeader(ex.header('x-amz-tagging'));
    const checksum = uploadChecksumFrom(ex.headers);
    const lock = writeLockFromHeaders(ex, this.deps.nowMs());
    const sse = sseOfWrite(ex.headers, ex.bucketInfo.encryption);
    // Every part is encrypted under the upload's data key, kept wrapped on the upload.
    const objectKey = sse ? this.deps.objectKeys.newDataKey(sse) : undefined;
    const storageClass = storageClassOfWrite(ex);
    const reply = await this.deps.metadata.initiateUpload({
      ...lock,
      ...acl,
      ...(objectKey ? { encryption: objectKey.encryption } : {}),
      bucket: ex.bucket,
      key: ex.key,
      owner: ex.caller.owner,
      contentType: ex.header('content-type'),
      userMetadata: userMetadataFrom(ex.headers),
      contentHeaders: contentHeadersFrom(ex.headers),
      storageClass,
      ...(tags ? { tags } : {}),
      ...(checksum ? { checksum } : {}),
    });
    uploadClasses.remember(reply.uploadId, storageClass);
    ex.sendXml(renderInitiateMultipartUploadResult(ex.bucket, ex.key, reply.uploadId), {
      ...uploadChecksumHeaders(checksum),
      ...encryptionResponseHeaders(objectKey?.encryption, sse?.scheme === 'SSE-C' ? sse.customer : undefined),
    });
  };

  readonly uploadPart = async (ex: S3Exchange): Promise<void> => {
    const upload = await this.uploadKey(ex);
    const storageClass = await uploadClasses.of(this.deps, ex, this.uploadId(ex));
    const { stored, digests } = await storeInClass(this.deps.chunks, storageClass, (chunks) => receiveUploadBody(ex, { ...this.deps, chunks }, upload.dataKey));
    const reply = await this.deps.metadata.uploadPart({
      bucket: ex.bucket,
      uploadId: this.uploadId(ex),
      partNumber: this.partNumber(ex),
      etag: singlePartEtag(digests.md5),
      sizeBytes: stored.sizeBytes,
      checksums: toChecksums(digests.checksums),
      chunks: stored.chunks,
    });
    ex.sendEmpty({ ETag: `"${reply.etag}"`, ...checksumResponseHeaders(digests.checksums), ...upload.responseHeaders });
  };

  /** The source bytes are read and stored again as the part's own chunks (ranges rarely align with chunks). */
  readonly uploadPartCopy = async (ex: S3Exchange): Promise<void> => {
    const source = ex.route?.copySource;
    if (!source) throw new S3Error('InvalidArgument', 'x-amz-copy-source is required');
    const view = await this.deps.metadata.headObject({ bucket: source.bucket, key: source.key, ...(source.versionId ? { versionId: source.versionId } : {}) });
    assertCopySourcePreconditions(ex.headers, { etag: view.etag ?? '', lastModified: new Date(view.lastModified) }, this.deps.nowMs());
    const sourceKey = this.deps.objectKeys.dataKeyOf(view.encryption, customerKeyOf(ex.headers, COPY_SOURCE_SSE_C_PREFIX));
    const upload = await this.uploadKey(ex);
    let start = 0;
    let endExclusive = view.sizeBytes;
    const rangeText = ex.header('x-amz-copy-source-range');
    if (rangeText !== undefined) {
      const match = COPY_SOURCE_RANGE_PATTERN.exec(rangeText.trim());
      if (!match || Number(match[1]) > Number(match[2]) || Number(match[2]) >= view.sizeBytes) {
        throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', {
          ArgumentName: 'x-amz-copy-source-range',
          ArgumentValue: rangeText,
        });
      }
      start = Number(match[1]);
      endExclusive = Number(match[2]) + 1;
    }
    if (endExclusive - start > MAX_SINGLE_PUT_SIZE_BYTES) throw new S3Error('EntityTooLarge');
    const md5 = createHash('md5');
    const hashed = async function* (pieces: AsyncIterable<Buffer>) {
      for await (const piece of pieces) {
        md5.update(piece);
        yield piece;
      }
    };
    // Byte mode, as in GetObject: objectMode would hold 16 pieces (chunks) ahead, outside the read budget.
    const bytes = Readable.from(hashed(readChunkedBody(this.deps.chunks, view.chunks, start, endExclusive, this.deps.readBudget, undefined, sourceKey)), { objectMode: false });
    const storageClass = await uploadClasses.of(this.deps, ex, this.uploadId(ex));
    const { stored } = await storeInClass(this.deps.chunks, storageClass, async (chunks) => ({ stored: await storeUploadBytes({ ...this.deps, chunks }, bytes, endExclusive - start, upload.dataKey) }));
    const reply = await this.deps.metadata.uploadPart({
      bucket: ex.bucket,
      uploadId: this.uploadId(ex),
      partNumber: this.partNumber(ex),
      etag: singlePartEtag(md5.digest()),
      sizeBytes: stored.sizeBytes,
      chunks: stored.chunks,
    });
    ex.sendXml(renderCopyPartResult({ lastModified: new Date(reply.lastModified), etag: reply.etag }), {
      ...(source.versionId ? { 'x-amz-copy-source-version-id': view.versionId } : {}),
      ...upload.responseHeaders,
    });
  };

  readonly completeMultipartUpload = async (ex: S3Exchange): Promise<void> => {
    // An SSE-C key sent with the completion must be the upload's (S3 does not require one here).
    const customer = customerKeyOf(ex.headers);
    const upload = await this.deps.metadata.getUpload({ bucket: ex.bucket, uploadId: this.uploadId(ex) }).catch(() => undefined);
    if (customer && upload) this.deps.objectKeys.checkCustomerKey(upload.encryption, customer);
    const parts = parseCompleteMultipartUpload(await readXmlBody(ex.req, ex.caller));
    // If-None-Match / If-Match are decided by metadata when it puts the version on the key, so of
    // racing conditional completes exactly one wins; a loser's upload stays open (412, as S3).
    const reply = await this.deps.metadata.completeUpload({
      bucket: ex.bucket,
      uploadId: this.uploadId(ex),
      parts: parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag, ...(Object.keys(part.checksums).length > 0 ? { checksums: toChecksums(part.checksums) } : {}) })),
      ...writeConditionsFrom(ex.headers),
      checksums: claimedChecksumsFrom(ex.headers),
    });
    ex.sendXml(
      renderCompleteMultipartUploadResult({
        location: `/${ex.bucket}/${encodeURIComponent(reply.key)}`,
        bucket: ex.bucket,
        key: reply.key,
        etag: reply.etag,
        checksums: checksumValuesOf(reply.checksums),
        checksumType: checksumTypeOf(reply.checksums),
      }),
      { ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId), ...encryptionResponseHeaders(upload?.encryption, customer) },
    );
  };

  readonly abortMultipartUpload = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.abortUpload({ bucket: ex.bucket, uploadId: this.uploadId(ex) });
    ex.sendEmpty({}, 204);
  };

  /**
   * The upload's data key, when it is encrypted: its parts are encrypted under it (an SSE-C upload
   * needs the customer's key on every part, as S3 does).
   */
  private async uploadKey(ex: S3Exchange): Promise<{ dataKey?: Buffer; responseHeaders: Record<string, string> }> {
    const upload = await this.deps.metadata.getUpload({ bucket: ex.bucket, uploadId: this.uploadId(ex) });
    const customer = customerKeyOf(ex.headers);
    const dataKey = this.deps.objectKeys.dataKeyOf(upload.encryption, customer);
    return { ...(dataKey ? { dataKey } : {}), responseHeaders: encryptionResponseHeaders(upload.encryption, customer) };
  }

  private uploadId(ex: S3Exchange): string {
    const uploadId = ex.route?.uploadId;
    if (!uploadId) throw new S3Error('InvalidArgument', 'uploadId is required');
    return uploadId;
  }

  private partNumber(ex: S3Exchange): number {
    const partNumber = ex.route?.partNumber;
    if (partNumber === undefined) throw new S3Error('InvalidArgument', 'partNumber is required');
    return partNumber;
  }
}
