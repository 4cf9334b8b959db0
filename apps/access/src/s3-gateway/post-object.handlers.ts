import { Transform, type Readable, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import { checkPostPolicy, contentLengthRange, parsePostPolicy } from '../domain/post-policy/post-policy';
import {
  IntegrityHasher,
  MAX_SINGLE_PUT_SIZE_BYTES,
  S3Error,
  checkKey,
  checksumAlgorithmsFor,
  checksumResponseHeaders,
  parseDeclaredDigests,
  parseTagging,
  singlePartEtag,
  verifyDigests,
  type HeaderBag,
} from '../s3';
import { xmlDocument, xmlElement } from '../s3/xml/xml-text';
import { objectWriteAclField } from './access-control';
import type { GatewayDeps } from './gateway-deps';
import { contentHeadersFrom, toChecksums, userMetadataFrom, versionIdHeader } from './object-headers';
import type { S3Exchange } from './s3-exchange';
import { storeUploadBytes } from './upload-body';
import { encryptionResponseHeaders, sseOfWrite } from '../encryption/object-keys';
import { storeInClass } from '../data-path/storage-class.store';
import { storageClassOfPostForm } from './storage-class';

/** Form fields before the file: how many, and how large each (S3's whole form outside the file is 20 KB). */
export const POST_MAX_FIELDS = 100;
export const POST_MAX_FIELD_SIZE_BYTES = 20 * 1024;
export const POST_MAX_FIELD_NAME_BYTES = 256;
const SUCCESS_STATUSES: ReadonlySet<string> = new Set(['200', '201', '204']);

interface FormHead {
  /** Every field before the file, names lower-case. */
  readonly fields: Map<string, string>;
  readonly file: Readable;
  readonly filename: string;
  /** Resolves once the whole form has been read (fields after the file are ignored). */
  readonly done: Promise<void>;
}

function malformed(message?: string): S3Error {
  return new S3Error('MalformedPOSTRequest', message);
}

/**
 * Reads the form up to its file part: the fields come whole (bounded), the file is handed over as a
 * stream, never buffered. A form without a file, or that is not multipart, is refused as S3 does.
 */
function readFormHead(ex: S3Exchange): Promise<FormHead> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: ex.req.headers,
      limits: { fields: POST_MAX_FIELDS, fieldSize: POST_MAX_FIELD_SIZE_BYTES, fieldNameSize: POST_MAX_FIELD_NAME_BYTES, files: 1, parts: POST_MAX_FIELDS + 1 },
    });
  } catch {
    return Promise.reject(malformed());
  }
  const fields = new Map<string, string>();
  return new Promise<FormHead>((resolve, reject) => {
    let fileSeen = false;
    let failure: S3Error | undefined;
    const fail = (error: S3Error) => {
      failure ??= error;
      if (!fileSeen) reject(failure);
    };
    const done = new Promise<void>((resolveDone, rejectDone) => {
      parser.once('close', () => {
        if (!fileSeen) fail(new S3Error('IncorrectNumberOfFilesInPostRequest'));
        if (failure) rejectDone(failure);
        else resolveDone();
      });
      parser.once('error', (error: Error) => {
        const s3 = malformed(`The body of your POST request is not well-formed multipart/form-data: ${error.message}`);
        failure ??= s3;
        if (fileSeen) rejectDone(s3);
        else reject(s3);
      });
    });
    done.catch(() => undefined);
    parser.on('field', (name, value, info) => {
      if (fileSeen) return; // S3 ignores every field after the file.
      if (info.nameTruncated || info.valueTruncated) fail(new S3Error('MaxMessageLengthExceeded', 'Your POST form fields are too large.'));
      else fields.set(name.toLowerCase(), value);
    });
    parser.on('fieldsLimit', () => fail(new S3Error('MaxMessageLengthExceeded', `A POST form takes at most ${POST_MAX_FIELDS} fields.`)));
    parser.on('file', (name, stream, info) => {
      if (fileSeen || name.toLowerCase() !== 'file' || failure) {
        stream.resume();
        if (!fileSeen) fail(name.toLowerCase() !== 'file' ? malformed(`Unexpected file field ${name}.`) : (failure as S3Error));
        return;
      }
      fileSeen = true;
      resolve({ fields, file: stream, filename: info.filename ?? '', done });
    });
    // A client that goes away mid-form: the parser (and the file stream it feeds) fails rather than waits.
    ex.req.once('close', () => {
      if (!ex.req.complete) parser.destroy(new S3Error('IncompleteBody', 'The client closed the connection before sending the whole form.'));
    });
    ex.req.pipe(parser);
  });
}

/** Counts the file's bytes as they pass, refusing the upload the moment it exceeds `maxBytes`. */
class SizeLimit extends Transform {
  sizeBytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sizeBytes += chunk.length;
    if (this.sizeBytes > this.maxBytes) callback(new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(this.maxBytes), ProposedSize: String(this.sizeBytes) }));
    else callback(null, chunk);
  }
}

/** The form's fields as a header bag, so PutObject's header readers (metadata, content headers, checksums) serve POST too. */
function headerBagOf(fields: ReadonlyMap<string, string>): HeaderBag {
  return Object.fromEntries(fields);
}

export class PostObjectHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  /**
   * POST Object: a browser-based upload. The policy and its SigV4 signature (or, without them, a
   * bucket policy open to anonymous writers) authorize the form; the file streams through the same
   * chunk store and digests as PutObject.
   */
  readonly postObject = async (ex: S3Exchange): Promise<void> => {
    const head = await readFormHead(ex);
    try {
      await this.upload(ex, head);
    } catch (error) {
      head.file.resume();
      throw error;
    }
  };

  private async upload(ex: S3Exchange, head: FormHead): Promise<void> {
    const { fields } = head;
    fields.set('bucket', ex.bucket);
    const policyText = fields.get('policy');
    const signed = policyText !== undefined || fields.has('x-amz-signature') || fields.has('x-amz-credential');
    let maxBytes = MAX_SINGLE_PUT_SIZE_BYTES;
    let minBytes = 0;
    if (signed) {
      if (!ex.verifyPostSignature) throw new S3Error('AccessDenied');
      ex.auth = await ex.verifyPostSignature({
        algorithm: fields.get('x-amz-algorithm'),
        credential: fields.get('x-amz-credential'),
        amzDate: fields.get('x-amz-date'),
        signature: fields.get('x-amz-signature'),
        policy: policyText,
      });
      const policy = parsePostPolicy(policyText as string);
      checkPostPolicy(policy, fields, this.deps.nowMs());
      const range = contentLengthRange(policy);
      if (range) {
        maxBytes = Math.min(maxBytes, range.maxBytes);
        minBytes = range.minBytes;
      }
    }
    const keyField = fields.get('key');
    if (keyField === undefined || keyField === '') throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key', ArgumentValue: '' });
    const key = keyField.split('${filename}').join(head.filename);
    checkKey(key);
    // The form's SSE fields (x-amz-server-side-encryption, -aws-kms-key-id, -customer-*), else the bucket's default.
    const sse = sseOfWrite(headerBagOf(fields), ex.bucketInfo.encryption);
    const objectKey = sse ? this.deps.objectKeys.newDataKey(sse) : undefined;
    const status = fields.get('success_action_status');
    const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
    if (ex.authorizeUpload) ex.authorizeUpload(key);
    else throw new S3Error('AccessDenied');
    // The form's `acl` field: a canned ACL, the object owned as the bucket's Object Ownership says.
    const acl = await objectWriteAclField(ex, this.deps.users, fields.get('acl') ?? 'private');

    const bag = headerBagOf(fields);
    const userMetadata = userMetadataFrom(bag);
    const contentHeaders = contentHeadersFrom(bag);
    const taggingText = fields.get('tagging');
    const tags = taggingText === undefined ? undefined : parseTagging(Buffer.from(taggingText, 'utf8'));
    const declared = parseDeclaredDigests(bag);
    const limit = new SizeLimit(maxBytes);
    const hasher = new IntegrityHasher({ checksumAlgorithms: [...checksumAlgorithmsFor(declared)] });
    // A form cut short mid-file is the client's fault (MalformedPOSTRequest), never a 5xx.
    head.file.once('error', (error: Error) => limit.destroy(error instanceof S3Error ? error : malformed(`The body of your POST request is not well-formed multipart/form-data: ${error.message}`)));
    limit.once('error', (error: Error) => hasher.destroy(error));
    head.file.pipe(limit).pipe(hasher);
    const storageClass = storageClassOfPostForm(fields.get('x-amz-storage-class'), ex.bucketInfo.defaultStorageClass);
    const { stored } = await storeInClass(this.deps.chunks, storageClass, async (chunks) => ({
      stored: await storeUploadBytes({ ...this.deps, chunks }, hasher, Math.min(maxBytes, this.deps.chunkSizeBytes), objectKey?.dataKey),
    }));
    if (limit.sizeBytes < minBytes) throw new S3Error('EntityTooSmall', undefined, { MinSizeAllowed: String(minBytes), ProposedSize: String(limit.sizeBytes) });
    const digests = hasher.result();
    verifyDigests(declared, digests);
    await head.done;

    const reply = await this.deps.metadata.putObject({
      bucket: ex.bucket,
      key,
      sizeBytes: stored.sizeBytes,
      etag: singlePartEtag(digests.md5),
      checksums: toChecksums(digests.checksums),
      contentType: fields.get('content-type'),
      userMetadata,
      contentHeaders,
      chunks: stored.chunks,
      storageClass,
      ...(tags ? { tags } : {}),
      ...(objectKey ? { encryption: objectKey.encryption } : {}),
      ...acl,
    });
    const etag = `"${reply.etag}"`;
    const location = `/${encodeURIComponent(ex.bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const headers = { ETag: etag, Location: location, ...versionIdHeader(ex.bucketInfo.versioning, reply.versionId), ...checksumResponseHeaders(digests.checksums), ...encryptionResponseHeaders(objectKey?.encryption, sse?.scheme === 'SSE-C' ? sse.customer : undefined) };
    if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
      const url = new URL(redirect);
      url.searchParams.set('bucket', ex.bucket);
      url.searchParams.set('key', key);
      url.searchParams.set('etag', etag);
      ex.sendEmpty({ ...headers, Location: url.toString() }, 303);
      return;
    }
    const code = status !== undefined && SUCCESS_STATUSES.has(status.trim()) ? Number(status.trim()) : 204;
    if (code === 201) {
      ex.sendXml(
        xmlDocument('PostResponse', [xmlElement('Location', location), xmlElement('Bucket', ex.bucket), xmlElement('Key', key), xmlElement('ETag', etag)]),
        headers,
        201,
      );
      return;
    }
    ex.sendEmpty(headers, code);
  }
}
