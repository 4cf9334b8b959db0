import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** AES-256: 32-byte keys. */
export const KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const KEYRING_FORMAT = 1;
/** A named KMS key id: a UUID, as AWS gives them (aliases are not kept). */
const KMS_KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The keyring file: the region master key's versions and the local key service's named keys. */
interface KeyringFile {
  readonly format: number;
  /** The master key version new data keys are wrapped by. */
  readonly current: number;
  /** base64 key per version ("1", "2", …); old versions stay so that keys wrapped by them unwrap. */
  readonly master: Record<string, string>;
  /** SSE-KMS keys by id: base64 key material and when it was made. */
  readonly kms: Record<string, { readonly key: string; readonly createdAt: string; readonly description?: string }>;
}

export class KeyNotFoundError extends Error {
  readonly code = 'KMS.NotFoundException';
  constructor(readonly keyId: string) {
    super(`Key '${keyId}' does not exist`);
  }
}

/**
 * The region's key service: master key versions (SSE-S3 and everything else wrapped "under the
 * master key") and named SSE-KMS keys, kept in one file outside the event log, mode 0600. Keys
 * wrap data keys with AES-256-GCM (`wrap` / `unwrap`); the additional data binds a wrap to its
 * purpose, so a key wrapped for one use does not unwrap for another.
 *
 * The file is re-read when it changes on disk (another process rotated or made a key), so every
 * service of the region that mounts it sees the same keys. Writes go to a temporary file, fsync'd,
 * then renamed.
 */
export class KeyService {
  private ring: KeyringFile;
  private mtimeMs: number;

  private constructor(
    private readonly file: string,
    ring: KeyringFile,
  ) {
    this.ring = ring;
    this.mtimeMs = statSync(file).mtimeMs;
  }

  /** Opens the keyring; a missing file is created with a first master key when `create` (development), else an error. */
  static open(file: string, options: { readonly create: boolean }): KeyService {
    if (!existsSync(file)) {
      if (!options.create) throw new Error(`the master key file ${file} does not exist (set CAIRN_MASTER_KEY_CREATE=true to create one in development)`);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      createKeyringOnce(file, { format: KEYRING_FORMAT, current: 1, master: { '1': randomBytes(KEY_BYTES).toString('base64') }, kms: {} });
    }
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new Error(`the master key file ${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
    return new KeyService(file, readKeyring(file));
  }

  get currentMasterVersion(): string {
    this.refresh();
    return String(this.ring.current);
  }

  masterVersions(): string[] {
    this.refresh();
    return Object.keys(this.ring.master).sort((a, b) => Number(a) - Number(b));
  }

  /** A new master key version, current from now on. Keys wrapped by older versions keep unwrapping. */
  rotateMaster(): string {
    this.refresh();
    const next = Math.max(...Object.keys(this.ring.master).map(Number)) + 1;
    this.save({ ...this.ring, current: next, master: { ...this.ring.master, [String(next)]: randomBytes(KEY_BYTES).toString('base64') } });
    return String(next);
  }

  createKmsKey(description?: string): { keyId: string; createdAt: string } {
    this.refresh();
    const keyId = randomUUID();
    const createdAt = new Date().toISOString();
    this.save({ ...this.ring, kms: { ...this.ring.kms, [keyId]: { key: randomBytes(KEY_BYTES).toString('base64'), createdAt, ...(description ? { description } : {}) } } });
    return { keyId, createdAt };
  }

  listKmsKeys(): { keyId: string; createdAt: string; description?: string }[] {
    this.refresh();
    return Object.entries(this.ring.kms).map(([keyId, k]) => ({ keyId, createdAt: k.createdAt, ...(k.description ? { description: k.description } : {}) }));
  }

  hasKmsKey(keyId: string): boolean {
    return this.kmsKey(keyId) !== undefined;
  }

  /** Wraps `secret` under a master key version (the current one by default). */
  wrapWithMaster(secret: Buffer, purpose: string, version = this.currentMasterVersion): string {
    return wrapKey(this.masterKey(version), secret, purpose);
  }

  unwrapWithMaster(wrapped: string, purpose: string, version: string): Buffer {
    return unwrapKey(this.masterKey(version), wrapped, purpose);
  }

  wrapWithKms(keyId: string, secret: Buffer, purpose: string): string {
    const key = this.kmsKey(keyId);
    if (!key) throw new KeyNotFoundError(keyId);
    return wrapKey(key, secret, purpose);
  }

  unwrapWithKms(keyId: string, wrapped: string, purpose: string): Buffer {
    const key = this.kmsKey(keyId);
    if (!key) throw new KeyNotFoundError(keyId);
    return unwrapKey(key, wrapped, purpose);
  }

  private masterKey(version: string): Buffer {
    let key = this.ring.master[version];
    if (key === undefined) {
      this.refresh(true);
      key = this.ring.master[version];
    }
    if (key === undefined) throw new Error(`master key version ${version} is not in ${this.file}`);
    return Buffer.from(key, 'base64');
  }

  private kmsKey(keyId: string): Buffer | undefined {
    if (!KMS_KEY_ID_PATTERN.test(keyId)) return undefined;
    let key = this.ring.kms[keyId];
    if (key === undefined) {
      this.refresh(true);
      key = this.ring.kms[keyId];
    }
    return key === undefined ? undefined : Buffer.from(key.key, 'base64');
  }

  private refresh(force = false): void {
    const mtimeMs = statSync(this.file).mtimeMs;
    if (!force && mtimeMs === this.mtimeMs) return;
    this.ring = readKeyring(this.file);
    this.mtimeMs = mtimeMs;
  }

  private save(ring: KeyringFile): void {
    writeKeyring(this.file, ring);
    this.ring = ring;
    this.mtimeMs = statSync(this.file).mtimeMs;
  }
}

/** base64 of iv(12) | tag(16) | ciphertext: AES-256-GCM of `secret` under `key`, bound to `purpose`. */
export function wrapKey(key: Buffer, secret: Buffer, purpose: string): string {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Throws when the key, the purpose or the wrapped bytes are not the ones it was wrapped with. */
export function unwrapKey(key: Buffer, wrapped: string, purpose: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64');
  if (bytes.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new Error('a wrapped key is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, GCM_IV_BYTES));
  decipher.setAAD(Buffer.from(purpose, 'utf8'));
  decipher.setAuthTag(bytes.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(GCM_IV_BYTES + GCM_TAG_BYTES)), decipher.final()]);
}

function readKeyring(file: string): KeyringFile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyringFile;
  if (parsed.format !== KEYRING_FORMAT || typeof parsed.master !== 'object' || parsed.master[String(parsed.current)] === undefined) {
    throw new Error(`${file} is not a Cairn keyring (format ${KEYRING_FORMAT})`);
  }
  return { ...parsed, kms: parsed.kms ?? {} };
}

/**
 * Creates the keyring unless another process got there first: the gateways of several regions
 * sharing one keyring start together, and two first master keys would leave one region's data
 * keys unwrappable by the others. link() refuses to replace, so exactly one file wins.
 */
function createKeyringOnce(file: string, ring: KeyringFile): void {
  const temporary = `${file}.${process.pid}.new`;
  writeFileSync(temporary, JSON.stringify(ring, null, 2), { mode: 0o600, flush: true });
  chmodSync(temporary, 0o600);
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function writeKeyring(file: string, ring: KeyringFile): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(ring, null, 2), { mode: 0o600, flush: true });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
