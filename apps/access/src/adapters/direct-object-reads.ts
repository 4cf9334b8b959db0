import { keyIdOf } from '@cairn/hashing';
import {
  bucketAsRead,
  CachingEventStore,
  checkObjectRead,
  FoldedStateCache,
  keyReadFold,
  readsMayWaitForReplication,
  versionToServeInBucket,
  type BucketAsRead,
  type KeyAsRead,
} from '@cairn/key-reads';
import type { StoredEvent } from '@cairn/eventing';
import type { JetStreamEventStore } from '@cairn/messaging';
import { subjectsFor, type ObjectKeyEvent, type ObjectVersionView, type Subjects } from '@cairn/protocol';

/** Keys whose folded read states the gateway keeps, least recently used out. */
const KEY_READS_MAX = 50_000;
/** Read states hold small objects' bytes inline. */
const KEY_READ_BYTES_MAX = 64 * 1024 * 1024;
/** Buckets whose histories are kept (a bucket's history is small: its settings' changes). */
const BUCKET_HISTORIES_MAX_BYTES = 16 * 1024 * 1024;
const BUCKET_HISTORY_MAX_BYTES = 1024 * 1024;

/**
 * HEAD and GET of a key answered by the gateway from the bucket's and the key's own subjects, as
 * metadata's headObject answers them (ObjectCommandsHandler.head, the same code from
 * @cairn/key-reads): the bucket's life and the key's versions folded from their events, read
 * together, so a read after an acknowledged write sees it and a bucket deleted and created again
 * never shows the old life's keys. Saves the RPC to metadata (two messages, its decoding, signing
 * and JSON) for every plain read. What this does not answer goes to metadata as before: a read of
 * a bucket whose reads may wait for replication (active-passive), and a read whose look-ups failed
 * (metadata then answers, or fails as it always did).
 */
export class DirectObjectReads {
  private readonly subjects: Subjects;
  private readonly buckets: CachingEventStore;
  private readonly keys: FoldedStateCache<ObjectKeyEvent, KeyAsRead>;
  /** The life folded from each kept bucket history: the store hands back the same history until the bucket changes. */
  private readonly lives = new WeakMap<readonly StoredEvent[], BucketAsRead>();

  constructor(events: JetStreamEventStore, namespace: string) {
    this.subjects = subjectsFor(namespace);
    this.buckets = new CachingEventStore(events, { bytesMax: BUCKET_HISTORIES_MAX_BYTES, historyBytesMax: BUCKET_HISTORY_MAX_BYTES });
    this.keys = new FoldedStateCache(this.buckets, keyReadFold, { entriesMax: KEY_READS_MAX, bytesMax: KEY_READ_BYTES_MAX });
  }

  /**
   * The version a HEAD/GET serves (metadata's answer, refusals included), or undefined when this
   * read is metadata's to answer.
   */
  async head(bucket: string, key: string, versionId?: string): Promise<ObjectVersionView | undefined> {
    // Refused as metadata refuses them, before either name becomes a subject token.
    checkObjectRead(bucket, key);
    let read;
    try {
      read = await Promise.all([this.buckets.read(this.subjects.bucket(bucket)), this.keys.load(this.subjects.object(bucket, keyIdOf(key)))]);
    } catch {
      return undefined;
    }
    const [bucketHistory, keyRead] = read;
    const life = this.lifeOf(bucketHistory.events);
    if (readsMayWaitForReplication(life.replication)) return undefined;
    return versionToServeInBucket(keyRead.state, life.incarnation, bucket, key, versionId);
  }

  private lifeOf(history: readonly StoredEvent[]): BucketAsRead {
    let life = this.lives.get(history);
    if (!life) {
      life = bucketAsRead(history);
      this.lives.set(history, life);
    }
    return life;
  }
}
