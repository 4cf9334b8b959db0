import { RetentionModes, type BucketEncryption, type ObjectLockConfiguration, type ObjectRetention, type ObjectVersionView, type RetentionMode } from '@cairn/protocol';
import {
  S3Error,
  parseObjectLegalHold,
  parseObjectLockConfiguration,
  parseObjectRetention,
  parseServerSideEncryptionConfiguration,
} from '../s3';
import { optionalElement, xmlDocument, xmlElement, xmlNode } from '../s3/xml/xml-text';
import type { GatewayDeps } from './gateway-deps';
import { readXmlBody } from './request-body';
import type { S3Exchange } from './s3-exchange';

const MISSING_LOCK_CONFIGURATION = 'Bucket is missing Object Lock Configuration';

/**
 * Default bucket encryption (Put/Get/DeleteBucketEncryption) and Object Lock (the bucket's
 * configuration, a version's retention and legal hold): docs/encryption.md, docs/object-lock.md.
 * Metadata stores and enforces them; this is their S3 face.
 */
export class DataProtectionHandlers {
  constructor(private readonly deps: GatewayDeps) {}

  readonly putBucketEncryption = async (ex: S3Exchange): Promise<void> => {
    const parsed = parseServerSideEncryptionConfiguration(await readXmlBody(ex.req, ex.caller));
    if (parsed.algorithm !== 'AES256' && parsed.algorithm !== 'aws:kms' && parsed.algorithm !== 'aws:kms:dsse') throw new S3Error('MalformedXML');
    const algorithm = parsed.algorithm === 'AES256' ? 'AES256' : 'aws:kms';
    if (parsed.kmsKeyId !== undefined && algorithm !== 'aws:kms') {
      throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse');
    }
    const kms = this.deps.objectKeys.keyService;
    if (parsed.kmsKeyId !== undefined && kms && !kms.hasKmsKey(bareKeyId(parsed.kmsKeyId))) throw new S3Error('KMS.NotFoundException', `Invalid keyId ${parsed.kmsKeyId}`);
    const encryption: BucketEncryption = {
      algorithm,
      ...(parsed.kmsKeyId !== undefined ? { kmsKeyId: bareKeyId(parsed.kmsKeyId) } : {}),
      ...(parsed.bucketKeyEnabled ? { bucketKeyEnabled: true } : {}),
    };
    await this.deps.metadata.putBucketEncryption({ bucket: ex.bucket, encryption });
    ex.sendEmpty({}, 200);
  };

  readonly getBucketEncryption = async (ex: S3Exchange): Promise<void> => {
    const encryption = ex.bucketInfo.encryption;
    if (encryption === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: ex.bucket });
    ex.sendXml(
      xmlDocument('ServerSideEncryptionConfiguration', [
        xmlNode('Rule', [
          xmlNode('ApplyServerSideEncryptionByDefault', [xmlElement('SSEAlgorithm', encryption.algorithm), optionalElement('KMSMasterKeyID', encryption.kmsKeyId)]),
          xmlElement('BucketKeyEnabled', String(encryption.bucketKeyEnabled === true)),
        ]),
      ]),
    );
  };

  readonly deleteBucketEncryption = async (ex: S3Exchange): Promise<void> => {
    await this.deps.metadata.deleteBucketEncryption({ bucket: ex.bucket });
    ex.sendEmpty({}, 204);
  };

  readonly putObjectLockConfiguration = async (ex: S3Exchange): Promise<void> => {
    requireDigest(ex);
    const parsed = parseObjectLockConfiguration(await readXmlBody(ex.req, ex.caller));
    if (parsed.enabled !== 'Enabled') throw new S3Error('MalformedXML');
    let objectLock: ObjectLockConfiguration = { enabled: true };
    if (parsed.mode !== undefined || parsed.days !== undefined || parsed.years !== undefined) {
      const mode = retentionModeOf(parsed.mode);
      if ((parsed.days === undefined) === (parsed.years === undefined)) throw new S3Error('MalformedXML');
      const count = Number(parsed.days ?? parsed.years);
      if (!/^-?\d{1,9}$/.test(parsed.days ?? parsed.years ?? '') || count <= 0) {
        throw new S3Error('InvalidArgument', 'Default retention period must be a positive integer value.', { ArgumentName: parsed.days !== undefined ? 'Days' : 'Years' });
      }
      objectLock = { enabled: true, defaultRetention: parsed.days !== undefined ? { mode, days: count } : { mode, years: count } };
    }
    await this.deps.metadata.putObjectLockConfiguration({ bucket: ex.bucket, objectLock });
    ex.sendEmpty({}, 200);
  };

  readonly getObjectLockConfiguration = async (ex: S3Exchange): Promise<void> => {
    const lock = ex.bucketInfo.objectLock;
    if (lock === undefined) throw new S3Error('ObjectLockConfigurationNotFoundError', undefined, { BucketName: ex.bucket });
    const rule = lock.defaultRetention;
    ex.sendXml(
      xmlDocument('ObjectLockConfiguration', [
        xmlElement('ObjectLockEnabled', 'Enabled'),
        rule
          ? xmlNode('Rule', [xmlNode('DefaultRetention', [xmlElement('Mode', rule.mode), optionalElement('Days', rule.days), optionalElement('Years', rule.years)])])
          : undefined,
      ]),
    );
  };

  readonly putObjectRetention = async (ex: S3Exchange): Promise<void> => {
    requireDigest(ex);
    if (ex.bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', MISSING_LOCK_CONFIGURATION);
    const parsed = parseObjectRetention(await readXmlBody(ex.req, ex.caller));
    let retention: ObjectRetention | null = null;
    if (parsed.mode !== undefined || parsed.retainUntilDate !== undefined) {
      if (parsed.mode === undefined || parsed.retainUntilDate === undefined) throw new S3Error('MalformedXML');
      retention = { mode: retentionModeOf(parsed.mode), retainUntil: retainUntilOf(parsed.retainUntilDate, this.deps.nowMs()) };
    }
    const reply = await this.deps.metadata.putObjectLock({
      bucket: ex.bucket,
      key: ex.key,
      retention,
      ...versionOf(ex),
      ...(bypassOf(ex) ? { bypassGovernanceRetention: true } : {}),
    });
    ex.sendEmpty(versionHeader(ex, reply.versionId), 200);
  };

  readonly getObjectRetention = async (ex: S3Exchange): Promise<void> => {
    if (ex.bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', MISSING_LOCK_CONFIGURATION);
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    if (!view.retention) throw new S3Error('NoSuchObjectLockConfiguration');
    ex.sendXml(xmlDocument('Retention', [xmlElement('Mode', view.retention.mode), xmlElement('RetainUntilDate', view.retention.retainUntil)]));
  };

  readonly putObjectLegalHold = async (ex: S3Exchange): Promise<void> => {
    requireDigest(ex);
    if (ex.bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', MISSING_LOCK_CONFIGURATION);
    const { status } = parseObjectLegalHold(await readXmlBody(ex.req, ex.caller));
    if (status !== 'ON' && status !== 'OFF') throw new S3Error('MalformedXML');
    const reply = await this.deps.metadata.putObjectLock({ bucket: ex.bucket, key: ex.key, legalHold: status === 'ON', ...versionOf(ex) });
    ex.sendEmpty(versionHeader(ex, reply.versionId), 200);
  };

  readonly getObjectLegalHold = async (ex: S3Exchange): Promise<void> => {
    if (ex.bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', MISSING_LOCK_CONFIGURATION);
    const view = await this.deps.metadata.headObject({ bucket: ex.bucket, key: ex.key, ...versionOf(ex) });
    if (view.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
    ex.sendXml(xmlDocument('LegalHold', [xmlElement('Status', view.legalHold ? 'ON' : 'OFF')]));
  };
}

/** x-amz-object-lock-mode / -retain-until-date / -legal-hold of a PutObject, copy or CreateMultipartUpload. */
export function writeLockFromHeaders(ex: S3Exchange, nowMs: number): { retention?: ObjectRetention; legalHold?: boolean } {
  const mode = ex.header('x-amz-object-lock-mode');
  const until = ex.header('x-amz-object-lock-retain-until-date');
  const hold = ex.header('x-amz-object-lock-legal-hold');
  if (mode === undefined && until === undefined && hold === undefined) {
    if (ex.bucketInfo.objectLock?.defaultRetention !== undefined && ex.route?.operation === 'PutObject') requireDigest(ex, true);
    return {};
  }
  if (ex.route?.operation === 'PutObject') requireDigest(ex, true);
  if ((mode === undefined) !== (until === undefined)) {
    throw new S3Error('InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
  }
  if (hold !== undefined && hold !== 'ON' && hold !== 'OFF') throw new S3Error('InvalidArgument', "Legal Hold must be either of 'ON' or 'OFF'");
  if (ex.bucketInfo.objectLock === undefined) throw new S3Error('InvalidRequest', MISSING_LOCK_CONFIGURATION);
  return {
    ...(mode !== undefined && until !== undefined ? { retention: { mode: retentionModeOf(mode, true), retainUntil: retainUntilOf(until, nowMs) } } : {}),
    ...(hold !== undefined ? { legalHold: hold === 'ON' } : {}),
  };
}

/** What GET and HEAD say of a version's Object Lock. */
export function lockResponseHeaders(view: ObjectVersionView): Record<string, string> {
  return {
    ...(view.retention ? { 'x-amz-object-lock-mode': view.retention.mode, 'x-amz-object-lock-retain-until-date': view.retention.retainUntil } : {}),
    ...(view.legalHold !== undefined ? { 'x-amz-object-lock-legal-hold': view.legalHold ? 'ON' : 'OFF' } : {}),
  };
}

/** x-amz-bypass-governance-retention: true, from a caller allowed s3:BypassGovernanceRetention on the key. */
export function bypassOf(ex: S3Exchange, key: string = ex.key): boolean {
  return ex.mayBypassGovernance?.(key) === true;
}

function retentionModeOf(value: string | undefined, header = false): RetentionMode {
  if (value !== undefined && (RetentionModes as readonly string[]).includes(value)) return value as RetentionMode;
  if (header) throw new S3Error('InvalidArgument', 'Unknown wormMode directive.', { ArgumentName: 'x-amz-object-lock-mode', ArgumentValue: value ?? '' });
  throw new S3Error('MalformedXML');
}

function retainUntilOf(text: string, nowMs: number): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new S3Error('InvalidArgument', 'The retain until date must be provided in ISO 8601 format');
  if (ms <= nowMs) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
  return new Date(ms).toISOString();
}

/** S3 requires an integrity check on Object Lock requests: Content-MD5 or an x-amz-checksum-*. */
function requireDigest(ex: S3Exchange, putObject = false): void {
  if (ex.header('content-md5') !== undefined) return;
  if (/x-amz-checksum-/i.test(ex.header('x-amz-trailer') ?? '')) return;
  if (Object.keys(ex.headers).some((name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-algorithm')) return;
  if (ex.header('x-amz-sdk-checksum-algorithm') !== undefined) return;
  throw new S3Error(
    'InvalidRequest',
    putObject ? 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters' : 'Missing required header for this request: Content-MD5',
  );
}

function versionOf(ex: S3Exchange): { versionId?: string } {
  const versionId = ex.route?.versionId;
  return versionId ? { versionId } : {};
}

function versionHeader(ex: S3Exchange, versionId: string): Record<string, string> {
  return ex.route?.versionId ? { 'x-amz-version-id': versionId } : {};
}

function bareKeyId(value: string): string {
  return /^arn:aws:kms:[^:]*:[^:]*:key\/(.+)$/.exec(value)?.[1] ?? value;
}
