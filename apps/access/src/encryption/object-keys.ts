import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BucketEncryption, ObjectEncryption } from '@cairn/protocol';
import { KEY_BYTES, KeyNotFoundError, unwrapKey, wrapKey, type KeyService } from '@cairn/service-kit';
import { S3Error } from '../s3';

/** What a write asks for (headers, or the bucket's default encryption). */
export type SseChoice =
  | { readonly scheme: 'SSE-S3'; readonly bucketKeyEnabled?: boolean }
  | { readonly scheme: 'SSE-KMS'; readonly kmsKeyId?: string; readonly context?: string; readonly bucketKeyEnabled?: boolean }
  | { readonly scheme: 'SSE-C'; readonly customer: CustomerKey };

/** An SSE-C key as the request gave it: checked against its MD5, never stored. */
export interface CustomerKey {
  readonly key: Buffer;
  /** base64 MD5 of the key, as the request sent it (S3 echoes it back). */
  readonly keyMd5: string;
}

export interface ObjectDataKey {
  readonly dataKey: Buffer;
  readonly encryption: ObjectEncryption;
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

const SSE_HEADER = 'x-amz-server-side-encryption';
const KMS_KEY_HEADER = 'x-amz-server-side-encryption-aws-kms-key-id';
const KMS_CONTEXT_HEADER = 'x-amz-server-side-encryption-context';
const BUCKET_KEY_HEADER = 'x-amz-server-side-encryption-bucket-key-enabled';
export const SSE_C_PREFIX = 'x-amz-server-side-encryption-customer-';
export const COPY_SOURCE_SSE_C_PREFIX = 'x-amz-copy-source-server-side-encryption-customer-';
/** The description of the key SSE-KMS uses when a request names none (AWS's aws/s3 managed key). */
export const DEFAULT_KMS_KEY_DESCRIPTION = 'aws/s3';
const KMS_ARN_PATTERN = /^arn:aws:kms:[^:]*:[^:]*:key\/(.+)$/;

/** Purposes the data key is wrapped for (the AES-GCM additional data). */
const PURPOSE = { 'SSE-S3': 'cairn:data-key:sse-s3', 'SSE-KMS': 'cairn:data-key:sse-kms', 'SSE-C': 'cairn:data-key:sse-c' } as const;
const SSE_C_HMAC_SALT_BYTES = 16;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : value[0];
}

/** The SSE-C key of a request (or of a copy's source, with COPY_SOURCE_SSE_C_PREFIX), S3's checks and messages. */
export function customerKeyOf(headers: Headers, prefix: string = SSE_C_PREFIX): CustomerKey | undefined {
  const algorithm = header(headers, `${prefix}algorithm`);
  const key = header(headers, `${prefix}key`);
  const keyMd5 = header(headers, `${prefix}key-md5`);
  if (algorithm === undefined && key === undefined && keyMd5 === undefined) return undefined;
  if (algorithm === undefined) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', { ArgumentName: `${prefix}algorithm` });
  }
  if (algorithm !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', 'The Encryption request you specified is not valid. Supported value: AES256.', { ArgumentName: `${prefix}algorithm`, ArgumentValue: algorithm });
  }
  if (key === undefined) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', { ArgumentName: `${prefix}key` });
  }
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== KEY_BYTES || bytes.toString('base64') !== key.trim()) {
    throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: `${prefix}key` });
  }
  if (keyMd5 === undefined) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', {
      ArgumentName: `${prefix}key-MD5`,
    });
  }
  if (createHash('md5').update(bytes).digest('base64') !== keyMd5.trim()) {
    throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', { ArgumentName: `${prefix}key-MD5` });
  }
  return { key: bytes, keyMd5: keyMd5.trim() };
}

/**
 * The encryption a write asks for: its SSE headers, else the bucket's default encryption, else none.
 * S3's refusals: an unknown algorithm, a KMS key id without aws:kms, SSE-C together with SSE.
 */
export function sseOfWrite(headers: Headers, bucketDefault: BucketEncryption | undefined): SseChoice | undefined {
  const algorithm = header(headers, SSE_HEADER);
  const kmsKeyId = header(headers, KMS_KEY_HEADER);
  const context = header(headers, KMS_CONTEXT_HEADER);
  const bucketKey = header(headers, BUCKET_KEY_HEADER)?.toLowerCase() === 'true';
  const customer = customerKeyOf(headers);
  if (customer) {
    if (algorithm !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', { ArgumentName: SSE_HEADER });
    return { scheme: 'SSE-C', customer };
  }
  if (algorithm === undefined) {
    if (kmsKeyId !== undefined || context !== undefined) {
      throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: SSE_HEADER });
    }
    if (!bucketDefault) return undefined;
    if (bucketDefault.algorithm === 'AES256') return { scheme: 'SSE-S3', ...(bucketDefault.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}) };
    return { scheme: 'SSE-KMS', ...(bucketDefault.kmsKeyId ? { kmsKeyId: kmsKeyIdOf(bucketDefault.kmsKeyId) } : {}), ...(bucketDefault.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}) };
  }
  if (algorithm === 'AES256') {
    if (kmsKeyId !== undefined) throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', { ArgumentName: SSE_HEADER });
    return { scheme: 'SSE-S3', ...(bucketKey ? { bucketKeyEnabled: true } : {}) };
  }
  if (algorithm === 'aws:kms' || algorithm === 'aws:kms:dsse') {
    return { scheme: 'SSE-KMS', ...(kmsKeyId ? { kmsKeyId: kmsKeyIdOf(kmsKeyId) } : {}), ...(context ? { context } : {}), ...(bucketKey ? { bucketKeyEnabled: true } : {}) };
  }
  throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: SSE_HEADER, ArgumentValue: algorithm });
}

/** A key id as S3 takes it: the bare id, or the key's ARN. */
function kmsKeyIdOf(value: string): string {
  return KMS_ARN_PATTERN.exec(value.trim())?.[1] ?? value.trim();
}

/**
 * Data keys of encrypted versions: made, wrapped and unwrapped here. Without a key service (no
 * master key file configured) SSE-C still works — its key-encryption key is the customer's — and
 * SSE-S3/SSE-KMS answer NotImplemented.
 */
export class ObjectKeys {
  constructor(private readonly keys: KeyService | undefined) {}

  /** A fresh data key for a new version (or upload), wrapped as the choice says. */
  newDataKey(choice: SseChoice): ObjectDataKey {
    const dataKey = randomBytes(KEY_BYTES);
    return { dataKey, encryption: this.wrapFor(choice, dataKey) };
  }

  /** The same data key wrapped for another encryption (a copy shares its source's chunks, so its data key). */
  wrapFor(choice: SseChoice, dataKey: Buffer): ObjectEncryption {
    switch (choice.scheme) {
      case 'SSE-C': {
        const salt = randomBytes(SSE_C_HMAC_SALT_BYTES);
        return {
          scheme: 'SSE-C',
          keyId: '',
          wrappedKey: wrapKey(choice.customer.key, dataKey, PURPOSE['SSE-C']),
          customerKeySalt: salt.toString('base64'),
          customerKeyHmac: createHmac('sha256', choice.customer.key).update(salt).digest('base64'),
        };
      }
      case 'SSE-S3': {
        const keys = this.requireKeys();
        const version = keys.currentMasterVersion;
        return { scheme: 'SSE-S3', keyId: version, wrappedKey: keys.wrapWithMaster(dataKey, PURPOSE['SSE-S3'], version), ...(choice.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}) };
      }
      case 'SSE-KMS': {
        const keys = this.requireKeys();
        const keyId = choice.kmsKeyId ?? this.defaultKmsKeyId(keys);
        try {
          return {
            scheme: 'SSE-KMS',
            keyId,
            wrappedKey: keys.wrapWithKms(keyId, dataKey, PURPOSE['SSE-KMS']),
            ...(choice.context ? { kmsContext: choice.context } : {}),
            ...(choice.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}),
          };
        } catch (error) {
          if (error instanceof KeyNotFoundError) throw new S3Error('KMS.NotFoundException', `Invalid keyId ${keyId}`);
          throw error;
        }
      }
      default: {
        const never: never = choice;
        throw new Error(`unknown encryption ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The data key of a stored version. SSE-C needs the customer's key (S3's 400 without it, 403 with
   * another one); a customer key sent for a version that is not SSE-C is S3's 400.
   */
  dataKeyOf(encryption: ObjectEncryption | undefined, customer: CustomerKey | undefined): Buffer | undefined {
    this.checkCustomerKey(encryption, customer);
    if (!encryption) return undefined;
    switch (encryption.scheme) {
      case 'SSE-C':
        return unwrapKey((customer as CustomerKey).key, encryption.wrappedKey, PURPOSE['SSE-C']);
      case 'SSE-S3':
        return this.requireKeys().unwrapWithMaster(encryption.wrappedKey, PURPOSE['SSE-S3'], encryption.keyId);
      case 'SSE-KMS':
        return this.requireKeys().unwrapWithKms(encryption.keyId, encryption.wrappedKey, PURPOSE['SSE-KMS']);
      default:
        throw new Error(`unknown encryption scheme ${String(encryption.scheme)}`);
    }
  }

  /** HEAD and every read of an SSE-C version: the right key, by its salted HMAC (nothing is unwrapped). */
  checkCustomerKey(encryption: ObjectEncryption | undefined, customer: CustomerKey | undefined): void {
    const isSseC = encryption?.scheme === 'SSE-C';
    if (!isSseC) {
      if (customer) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
      return;
    }
    if (!customer) {
      throw new S3Error('InvalidRequest', 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.');
    }
    const expected = Buffer.from(encryption.customerKeyHmac ?? '', 'base64');
    const actual = createHmac('sha256', customer.key).update(Buffer.from(encryption.customerKeySalt ?? '', 'base64')).digest();
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new S3Error('AccessDenied', 'The provided customer key does not match the key the object was encrypted with.');
    }
  }

  /** Master key rotation: the data key wrapped again under the current master version (null when it is already). */
  rewrapToCurrent(encryption: ObjectEncryption): ObjectEncryption | null {
    if (encryption.scheme !== 'SSE-S3') return null;
    const keys = this.requireKeys();
    const current = keys.currentMasterVersion;
    if (encryption.keyId === current) return null;
    const dataKey = keys.unwrapWithMaster(encryption.wrappedKey, PURPOSE['SSE-S3'], encryption.keyId);
    return { ...encryption, keyId: current, wrappedKey: keys.wrapWithMaster(dataKey, PURPOSE['SSE-S3'], current) };
  }

  get keyService(): KeyService | undefined {
    return this.keys;
  }

  private defaultKmsKeyId(keys: KeyService): string {
    const existing = keys.listKmsKeys().find((k) => k.description === DEFAULT_KMS_KEY_DESCRIPTION);
    return existing?.keyId ?? keys.createKmsKey(DEFAULT_KMS_KEY_DESCRIPTION).keyId;
  }

  private requireKeys(): KeyService {
    if (!this.keys) throw new S3Error('NotImplemented', 'Server-side encryption with a master key is not configured on this gateway (CAIRN_MASTER_KEY_FILE).');
    return this.keys;
  }
}

/** The response headers S3 sends for an encrypted version (PUT, GET, HEAD, copy, multipart). */
export function encryptionResponseHeaders(encryption: ObjectEncryption | undefined, customer?: CustomerKey): Record<string, string> {
  if (!encryption) return {};
  switch (encryption.scheme) {
    case 'SSE-C':
      return {
        'x-amz-server-side-encryption-customer-algorithm': 'AES256',
        ...(customer ? { 'x-amz-server-side-encryption-customer-key-MD5': customer.keyMd5 } : {}),
      };
    case 'SSE-S3':
      return { 'x-amz-server-side-encryption': 'AES256', ...(encryption.bucketKeyEnabled ? { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' } : {}) };
    case 'SSE-KMS':
      return {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': encryption.keyId,
        ...(encryption.kmsContext ? { 'x-amz-server-side-encryption-context': encryption.kmsContext } : {}),
        ...(encryption.bucketKeyEnabled ? { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' } : {}),
      };
    default:
      return {};
  }
}
