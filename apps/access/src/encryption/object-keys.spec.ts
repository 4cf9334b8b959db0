import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KeyService } from '@cairn/service-kit';
import { codeOf } from '../testing/s3-error-code';
import { customerKeyOf, encryptionResponseHeaders, ObjectKeys, sseOfWrite, COPY_SOURCE_SSE_C_PREFIX } from './object-keys';

const key = randomBytes(32);
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('base64');
const sseC = (k: Buffer, over: Record<string, string> = {}) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': k.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': md5(k),
  ...over,
});

describe('SSE request headers', () => {
  it('takes an SSE-C key checked by its MD5', () => {
    expect(customerKeyOf(sseC(key))?.key.equals(key)).toBe(true);
    expect(codeOf(() => customerKeyOf(sseC(key, { 'x-amz-server-side-encryption-customer-key-md5': md5(randomBytes(32)) })))).toBe('InvalidArgument');
    expect(codeOf(() => customerKeyOf(sseC(randomBytes(16))))).toBe('InvalidArgument');
    expect(codeOf(() => customerKeyOf(sseC(key, { 'x-amz-server-side-encryption-customer-algorithm': 'AES128' })))).toBe('InvalidEncryptionAlgorithmError');
    const { 'x-amz-server-side-encryption-customer-key-md5': _md5, ...withoutMd5 } = sseC(key);
    expect(codeOf(() => customerKeyOf(withoutMd5))).toBe('InvalidArgument');
    expect(customerKeyOf({})).toBeUndefined();
  });

  it('reads the copy source key under its own prefix', () => {
    const headers = Object.fromEntries(Object.entries(sseC(key)).map(([name, value]) => [name.replace('x-amz-server-side-encryption-customer-', COPY_SOURCE_SSE_C_PREFIX), value]));
    expect(customerKeyOf(headers, COPY_SOURCE_SSE_C_PREFIX)?.key.equals(key)).toBe(true);
    expect(customerKeyOf(headers)).toBeUndefined();
  });

  it('chooses headers over the bucket default, and refuses S3 combinations it refuses', () => {
    expect(sseOfWrite({}, undefined)).toBeUndefined();
    expect(sseOfWrite({}, { algorithm: 'AES256' })).toEqual({ scheme: 'SSE-S3' });
    expect(sseOfWrite({}, { algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:us-east-1:1:key/abc' })).toEqual({ scheme: 'SSE-KMS', kmsKeyId: 'abc' });
    expect(sseOfWrite({ 'x-amz-server-side-encryption': 'aws:kms' }, { algorithm: 'AES256' })).toEqual({ scheme: 'SSE-KMS' });
    expect(sseOfWrite(sseC(key), { algorithm: 'AES256' })?.scheme).toBe('SSE-C');
    expect(codeOf(() => sseOfWrite({ 'x-amz-server-side-encryption': 'AES512' }, undefined))).toBe('InvalidArgument');
    expect(codeOf(() => sseOfWrite({ 'x-amz-server-side-encryption-aws-kms-key-id': 'k' }, undefined))).toBe('InvalidArgument');
    expect(codeOf(() => sseOfWrite({ ...sseC(key), 'x-amz-server-side-encryption': 'AES256' }, undefined))).toBe('InvalidArgument');
  });
});

describe('ObjectKeys', () => {
  let dir: string;
  let keys: ObjectKeys;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-keys-'));
    keys = new ObjectKeys(KeyService.open(path.join(dir, 'keyring.json'), { create: true }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the keyring 0600 and refuses one others can read', () => {
    const file = path.join(dir, 'keyring.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => KeyService.open(path.join(dir, 'missing.json'), { create: false })).toThrow(/does not exist/);
  });

  it('SSE-C: the customer key unwraps its data key; nothing of it is stored but a salted HMAC', () => {
    const customer = customerKeyOf(sseC(key))!;
    const made = keys.newDataKey({ scheme: 'SSE-C', customer });
    expect(JSON.stringify(made.encryption)).not.toContain(key.toString('base64'));
    expect(JSON.stringify(made.encryption)).not.toContain(customer.keyMd5);
    expect(keys.dataKeyOf(made.encryption, customer)?.equals(made.dataKey)).toBe(true);
    expect(codeOf(() => keys.dataKeyOf(made.encryption, undefined))).toBe('InvalidRequest');
    expect(codeOf(() => keys.dataKeyOf(made.encryption, customerKeyOf(sseC(randomBytes(32)))))).toBe('AccessDenied');
    expect(encryptionResponseHeaders(made.encryption, customer)['x-amz-server-side-encryption-customer-key-MD5']).toBe(customer.keyMd5);
  });

  it('SSE-S3 survives a rotation: the old wrap still opens, the re-wrap opens under the new version', () => {
    const made = keys.newDataKey({ scheme: 'SSE-S3' });
    expect(made.encryption.keyId).toBe('1');
    keys.keyService!.rotateMaster();
    expect(keys.dataKeyOf(made.encryption, undefined)?.equals(made.dataKey)).toBe(true);
    const rewrapped = keys.rewrapToCurrent(made.encryption)!;
    expect(rewrapped.keyId).toBe('2');
    expect(keys.dataKeyOf(rewrapped, undefined)?.equals(made.dataKey)).toBe(true);
    expect(keys.rewrapToCurrent(rewrapped)).toBeNull();
  });

  it('SSE-KMS: a named key, the default key, and KMS.NotFoundException for an unknown one', () => {
    const { keyId } = keys.keyService!.createKmsKey('test');
    const made = keys.newDataKey({ scheme: 'SSE-KMS', kmsKeyId: keyId });
    expect(keys.dataKeyOf(made.encryption, undefined)?.equals(made.dataKey)).toBe(true);
    expect(keys.newDataKey({ scheme: 'SSE-KMS' }).encryption.keyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(codeOf(() => keys.newDataKey({ scheme: 'SSE-KMS', kmsKeyId: '00000000-0000-4000-8000-000000000000' }))).toBe('KMS.NotFoundException');
  });

  it('without a keyring: SSE-C works, SSE-S3 is NotImplemented', () => {
    const bare = new ObjectKeys(undefined);
    expect(codeOf(() => bare.newDataKey({ scheme: 'SSE-S3' }))).toBe('NotImplemented');
    const customer = customerKeyOf(sseC(key))!;
    expect(bare.dataKeyOf(bare.newDataKey({ scheme: 'SSE-C', customer }).encryption, customer)).toHaveLength(32);
  });
});
