import { createHash } from 'node:crypto';
import { handleCommand, InMemoryEventStore, type Decider, type HandledCommand } from '@cairn/eventing';
import { keyIdOf } from '@cairn/hashing';
import {
  membershipSubject,
  MetadataEventSchemaVersions,
  subjectsFor,
  type DomainEvent,
  type VersioningStatus,
} from '@cairn/protocol';
import { accessKeyDecider } from '../domain/access-key/access-key.decider';
import { bucketDecider } from '../domain/bucket/bucket.decider';
import { bucketIncarnation } from '@cairn/key-reads';
import { membershipDecider } from '../domain/membership/membership.decider';
import { multipartUploadDecider } from '../domain/multipart-upload/multipart-upload.decider';
import { objectKeyDecider } from '../domain/object-key/object-key.decider';
import type { AccessKeyCommand } from '../domain/access-key/access-key.commands';
import type { BucketCommand } from '../domain/bucket/bucket.commands';
import type { MembershipCommand } from '../domain/membership/membership.commands';
import type { MultipartUploadCommand } from '../domain/multipart-upload/multipart-upload.commands';
import type { ObjectKeyCommand } from '../domain/object-key/object-key.commands';

/** A command without the bucket life, which the world fills in from the bucket's subject as the shell does. */
export type WithoutLife<C> = C extends unknown ? Omit<C, 'incarnation'> & { readonly incarnation?: number } : never;

export const md5Hex = (body: string): string => createHash('md5').update(body).digest('hex');
export const sha256Hex = (body: string): string => createHash('sha256').update(body).digest('hex');

/**
 * Drives the real deciders through handleCommand over an in-memory event store, so projection
 * tests project exactly the events the command side would append. Deterministic ids and clock.
 */
export class MetadataWorld {
  readonly store = new InMemoryEventStore();
  private readonly subjects = subjectsFor('');
  private counter = 0;
  private readonly ctx = {
    region: 'eu-one',
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, this.counter)),
    newId: () => `evt-${++this.counter}`,
    nextHlc: () => `hlc-${String(this.counter).padStart(8, '0')}`,
  };

  at(): string {
    return new Date(Date.UTC(2026, 0, 1, 0, 0, ++this.counter)).toISOString();
  }

  bucket(command: BucketCommand) {
    return this.run(bucketDecider, this.subjects.bucket(command.bucket), command.bucket, command);
  }

  async object(command: WithoutLife<ObjectKeyCommand>) {
    const placed = { ...command, incarnation: command.incarnation ?? (await this.incarnationOf(command.bucket)) } as ObjectKeyCommand;
    return this.run(objectKeyDecider, this.subjects.object(placed.bucket, placed.keyId), `${placed.bucket}/${placed.keyId}`, placed);
  }

  /**
   * The bucket's latest life (bucket-incarnation.ts), also once it has been deleted: a command the
   * world runs after the delete is a late writer that read the bucket while it was live.
   */
  async incarnationOf(bucket: string): Promise<number> {
    const history = (await this.store.read(this.subjects.bucket(bucket))).events;
    const created = history.filter((e) => e.envelope.type === 'BucketCreated');
    return bucketIncarnation(created);
  }

  /** Initiate, UploadPart and Complete get the bucket's latest life when the test leaves it out, as object() does. */
  async upload(command: WithoutLife<MultipartUploadCommand>) {
    const placed = (
      command.incarnation !== undefined || command.type === 'AbortMultipartUpload' || command.type === 'WithdrawUploadCompletion'
        ? command
        : { ...command, incarnation: await this.incarnationOf(command.bucket) }
    ) as MultipartUploadCommand;
    return this.run(multipartUploadDecider, this.subjects.upload(placed.bucket, placed.uploadId), placed.uploadId, placed);
  }

  accessKey(command: AccessKeyCommand) {
    return this.run(accessKeyDecider, this.subjects.accessKey(command.accessKeyId), command.accessKeyId, command);
  }

  membership(command: MembershipCommand) {
    return this.run(membershipDecider, membershipSubject(''), 'membership', command);
  }

  async createBucket(bucket: string, versioning: VersioningStatus = 'Unversioned'): Promise<void> {
    await this.bucket({ type: 'CreateBucket', bucket, owner: 'alice', region: 'eu-one', createdAt: this.at() });
    if (versioning !== 'Unversioned') await this.bucket({ type: 'SetBucketVersioning', bucket, versioning });
  }

  /** A put of `body` as one chunk (none when empty); returns the version id the shell proposed. */
  async put(bucket: string, key: string, body: string, versioning: VersioningStatus = 'Unversioned'): Promise<string> {
    const versionId = `v${String(++this.counter).padStart(6, '0')}`;
    await this.object({
      type: 'PutObjectVersion',
      bucket,
      key,
      keyId: keyIdOf(key),
      versionId,
      versioning,
      sizeBytes: Buffer.byteLength(body),
      etag: md5Hex(body),
      checksums: {},
      contentType: 'text/plain',
      userMetadata: {},
      chunks: body.length === 0 ? [] : [{ hash: sha256Hex(body), offsetBytes: 0, sizeBytes: Buffer.byteLength(body) }],
      storageClass: 'STANDARD',
      hlc: `hlc-${this.counter}`,
      lastModified: this.at(),
    });
    return versionId;
  }

  async deleteObject(bucket: string, key: string, versioning: VersioningStatus): Promise<string> {
    const versionId = `m${String(++this.counter).padStart(6, '0')}`;
    await this.object({ type: 'DeleteObject', bucket, key, keyId: keyIdOf(key), versionId, versioning, hlc: `hlc-${this.counter}`, lastModified: this.at() });
    return versionId;
  }

  private run<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, subject: string, aggregateId: string, command: C): Promise<HandledCommand<E, S>> {
    return handleCommand(this.store, decider, subject, aggregateId, command, this.ctx, {
      schemaVersionOf: (type) => MetadataEventSchemaVersions[type as keyof typeof MetadataEventSchemaVersions],
    });
  }
}
