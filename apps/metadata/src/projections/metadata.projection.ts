import type { Projection } from '@cairn/eventing';
import { isMetadataEventType, METADATA_EVENT_TYPES, type EventEnvelope, type MetadataEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';
import { UserProjection } from '../user/user.projection';
import { AccessKeyProjection } from '../access-key/access-key.projection';
import type { AccessKeySecrets } from '../access-key/access-key-secrets';
import { tableIn } from '../adapters/metadata-schema';
import { BucketLives, BucketProjection } from '../bucket/bucket.projection';
import { ConflictLogProjection } from '../conflict-log/conflict-log.projection';
import { MembershipProjection } from '../membership/membership.projection';
import { MultipartUploadProjection } from '../multipart-upload/multipart-upload.projection';
import { isVersionEvent, ObjectKeyProjection, type VersionEvent, type VersionRow } from '../object-key/object-key.projection';
import type { MetadataProjectionPart } from './projection-part';

/** The new versions applyAll batches (isVersionEvent). */
const VERSION_EVENT_TYPES: readonly VersionEvent['type'][] = ['ObjectVersionPut', 'ObjectVersionCopied', 'DeleteMarkerPut'];

/**
 * Applies one metadata event to the Postgres read model by handing it to the parts that handle its
 * type: its aggregate's (bucket, object key, multipart upload, access key, membership: each in its
 * folder), and any read model fed by it (the conflict log takes ConflictResolved, which the object
 * key's part handles too), in the order listed below. It trusts
 * the order of the stream: the deciders already refused everything invalid, so each event is a
 * plain row change. Object and upload events of a bucket the read model does not hold are writes
 * that lost a race with the bucket's deletion (see the bucket decider) and are skipped, the same
 * way on every replay; so are object-key events and upload initiations (with their parts) of an
 * earlier life of a bucket name that was deleted and created again (BucketLives).
 *
 * A completed upload keeps its rows (marked with completed_sequence, out of the listings) until the
 * version naming its upload id is projected: chunk.references never finds its chunks named by
 * nothing in between. An aborted upload's rows go at once.
 */
export class MetadataProjection implements Projection<EntityManager> {
  readonly name = 'metadata';
  readonly handles: readonly string[] = METADATA_EVENT_TYPES;
  private readonly objects: ObjectKeyProjection;
  private readonly partsOf: ReadonlyMap<string, readonly MetadataProjectionPart[]>;

  /** `accessKeySecrets`: seals plaintext access-key secrets of older events as they are projected. */
  constructor(
    readonly schema: string,
    accessKeySecrets?: AccessKeySecrets,
  ) {
    const t = tableIn(schema);
    const lives = new BucketLives(t);
    const uploads = new MultipartUploadProjection(t, lives);
    this.objects = new ObjectKeyProjection(t, lives, uploads);
    const conflicts = new ConflictLogProjection(t, lives);
    const buckets = new BucketProjection(t, lives, [uploads, this.objects, conflicts]);
    this.partsOf = partsByEventType([buckets, this.objects, conflicts, uploads, new AccessKeyProjection(t, accessKeySecrets), new UserProjection(t), new MembershipProjection(t)]);
  }

  async apply(tx: EntityManager, envelope: EventEnvelope, sequence: number): Promise<void> {
    const event = metadataEventOf(envelope);
    if (event) await this.applyToParts(tx, event, sequence);
  }

  /**
   * A batch of events in stream order. Runs of new versions of distinct keys go to Postgres as one
   * set (ObjectKeyProjection.putVersions: at most five statements for the run instead of per event),
   * which is what lets the read model keep up with many writers; every other event is applied on
   * its own, in order.
   */
  async applyAll(tx: EntityManager, events: readonly { readonly envelope: EventEnvelope; readonly sequence: number }[]): Promise<void> {
    let run: VersionRow[] = [];
    const keysInRun = new Set<string>();
    const flush = async () => {
      if (run.length > 0) await this.objects.putVersions(tx, run);
      run = [];
      keysInRun.clear();
    };
    for (const { envelope, sequence } of events) {
      const event = metadataEventOf(envelope);
      if (!event) continue;
      if (!isVersionEvent(event)) {
        await flush();
        await this.applyToParts(tx, event, sequence);
        continue;
      }
      const row = await this.objects.rowToPut(tx, event, sequence);
      if (!row) continue;
      // A second version of a key in the run must see the first one's row: it starts the next run.
      const keyRef = `${row.bucket}\n${row.key_id}`;
      if (keysInRun.has(keyRef)) await flush();
      run.push(row);
      keysInRun.add(keyRef);
    }
    await flush();
  }

  private async applyToParts(tx: EntityManager, event: MetadataEvent, sequence: number): Promise<void> {
    const parts = this.partsOf.get(event.type);
    if (!parts) throw new Error(`no part of the metadata projection handles ${event.type}`);
    for (const part of parts) await part.apply(tx, event, sequence);
  }
}

function metadataEventOf(envelope: EventEnvelope): MetadataEvent | null {
  return isMetadataEventType(envelope.type) ? ({ type: envelope.type, data: envelope.data } as MetadataEvent) : null;
}

/**
 * Each metadata event type to the parts that handle it, in the order given. A type handled by no
 * part is a bug; so is a new version handled by a second part, since applyAll hands runs of those
 * to the object key's part alone (putVersions).
 */
function partsByEventType(parts: readonly MetadataProjectionPart[]): ReadonlyMap<string, readonly MetadataProjectionPart[]> {
  const partsOf = new Map<string, MetadataProjectionPart[]>();
  for (const part of parts) {
    for (const type of part.handles) {
      partsOf.set(type, [...(partsOf.get(type) ?? []), part]);
    }
  }
  const unhandled = METADATA_EVENT_TYPES.filter((type) => !partsOf.has(type));
  if (unhandled.length > 0) throw new Error(`no part of the metadata projection handles ${unhandled.join(', ')}`);
  const batched = VERSION_EVENT_TYPES.filter((type) => (partsOf.get(type)?.length ?? 0) > 1);
  if (batched.length > 0) throw new Error(`only the object key's part may handle ${batched.join(', ')} (applyAll batches them to it alone)`);
  return partsOf;
}
