import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CairnError } from '@cairn/protocol';
import { ClusterCredentials } from '@cairn/service-kit';
import { SchedulerStateStore } from '../adapters/scheduler-state.store';
import type { BackupTarget } from './backup-target.port';
import { DirectoryBackupTarget } from './directory-target.adapter';
import { S3BackupTarget } from './s3-target.adapter';

export const BackupErrorCodes = {
  NoSuchTarget: 'NoSuchBackupTarget',
  NoSuchBackup: 'NoSuchBackup',
  TargetExists: 'BACKUP_TARGET_EXISTS',
  InvalidArgument: 'InvalidArgument',
  RegionNotEmpty: 'REGION_NOT_EMPTY',
} as const;

/** How often a target is backed up on its own, and how many complete backups it keeps. */
export interface BackupSchedule {
  readonly everyMs: number;
  readonly keep: number;
}

interface SealedSecret {
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

/** A target as stored: an S3 secret only sealed (AES-256-GCM). */
interface StoredTarget {
  readonly name: string;
  readonly kind: 'dir' | 's3';
  readonly path?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly prefix?: string;
  readonly accessKeyId?: string;
  readonly secret?: SealedSecret;
  /** Backup and restore copies to and from the target take at most this many bytes a second. */
  readonly bytesPerSecond: number;
  readonly schedule: BackupSchedule | null;
  readonly createdAt: string;
}

/** A target as the admin API shows it: no secret. */
export type BackupTargetView = Omit<StoredTarget, 'secret'> & { readonly hasSecret: boolean };

export interface NewBackupTarget {
  readonly name: string;
  readonly kind: 'dir' | 's3';
  readonly path?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly bucket?: string;
  readonly prefix?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly bytesPerSecond: number;
  readonly schedule: BackupSchedule | null;
}

const TARGETS_KEY = 'backup:targets';
const SEAL_AAD = Buffer.from('cairn backup-target secret v1');

/**
 * Backup targets, kept in the scheduler's state store (Redis). An S3 target's secret key is
 * sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the cluster secret every service
 * of the region shares: the region has no master-key service in HEAD to put it under yet, so it is
 * encrypted at rest but any holder of the cluster secret can open it (docs/backups.md).
 */
@Injectable()
export class BackupTargetsStore {
  private readonly key: Buffer;

  constructor(
    private readonly state: SchedulerStateStore,
    credentials: ClusterCredentials,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', credentials.keys.key('internal-http'), 'cairn-backup', 'cairn backup-target credentials v1', 32));
  }

  async list(): Promise<BackupTargetView[]> {
    return Object.values(await this.all())
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(viewOf);
  }

  async view(name: string): Promise<BackupTargetView> {
    return viewOf(await this.stored(name));
  }

  async add(target: NewBackupTarget): Promise<BackupTargetView> {
    validate(target);
    const all = await this.all();
    if (all[target.name]) throw new CairnError(BackupErrorCodes.TargetExists, `backup target ${target.name} exists: remove it first`, { name: target.name });
    const { secretAccessKey, ...rest } = target;
    const stored: StoredTarget = { ...rest, ...(secretAccessKey ? { secret: this.seal(secretAccessKey) } : {}), createdAt: new Date().toISOString() };
    await this.state.setJson(TARGETS_KEY, { ...all, [target.name]: stored });
    return viewOf(stored);
  }

  async remove(name: string): Promise<void> {
    const all = await this.all();
    if (!all[name]) throw new CairnError(BackupErrorCodes.NoSuchTarget, `no backup target ${name}`, { name });
    const { [name]: _removed, ...rest } = all;
    await this.state.setJson(TARGETS_KEY, rest);
  }

  /** An open target (close it when done). */
  async open(name: string): Promise<BackupTarget> {
    const t = await this.stored(name);
    if (t.kind === 'dir') return new DirectoryBackupTarget(t.path!);
    return new S3BackupTarget({
      endpoint: t.endpoint!,
      region: t.region ?? 'us-east-1',
      bucket: t.bucket!,
      prefix: t.prefix ?? '',
      accessKeyId: t.accessKeyId ?? '',
      secretAccessKey: t.secret ? this.open_(t.secret) : '',
    });
  }

  /** The raw stored form, for a test to see that no secret is kept in the clear. */
  async storedForm(): Promise<string> {
    return JSON.stringify(await this.all());
  }

  private async all(): Promise<Record<string, StoredTarget>> {
    return (await this.state.getJson<Record<string, StoredTarget>>(TARGETS_KEY)) ?? {};
  }

  private async stored(name: string): Promise<StoredTarget> {
    const t = (await this.all())[name];
    if (!t) throw new CairnError(BackupErrorCodes.NoSuchTarget, `no backup target ${name}`, { name });
    return t;
  }

  private seal(secret: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(SEAL_AAD);
    const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  private open_(sealed: SealedSecret): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(SEAL_AAD);
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  }
}

function viewOf(t: StoredTarget): BackupTargetView {
  const { secret, ...rest } = t;
  return { ...rest, hasSecret: secret !== undefined };
}

function validate(t: NewBackupTarget): void {
  const bad = (message: string) => new CairnError(BackupErrorCodes.InvalidArgument, message);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(t.name)) throw bad('name must be lowercase letters, digits and "-"');
  if (t.kind === 'dir') {
    if (!t.path || !t.path.startsWith('/')) throw bad('a dir target needs an absolute path');
  } else if (t.kind === 's3') {
    if (!t.endpoint || !/^https?:\/\/\S+$/.test(t.endpoint)) throw bad('an s3 target needs an http(s) endpoint');
    if (!t.bucket) throw bad('an s3 target needs a bucket');
    if (!t.accessKeyId || !t.secretAccessKey) throw bad('an s3 target needs an access key id and a secret');
  } else {
    throw bad('kind must be dir or s3');
  }
}
