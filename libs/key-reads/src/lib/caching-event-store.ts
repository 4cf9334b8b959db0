import type { AppendResult, EventStore, StoredEvent, StreamRead } from '@cairn/eventing';
import type { JetStreamEventStore, LastEvent } from '@cairn/messaging';
import type { EventEnvelope } from '@cairn/protocol';
import { LruByteCache } from './lru-byte-cache';

/** Subjects whose histories are kept; the least recently used one goes first. */
export const CACHED_SUBJECTS_MAX = 20_000;
/** A history longer than this is not cached (a very hot key would pin memory). */
export const CACHED_EVENTS_PER_SUBJECT_MAX = 5_000;
/**
 * All cached histories together stay under this many bytes (as JSON), least recently used first
 * out: events can carry small objects' bytes inline, so counting events alone does not bound memory.
 */
export const CACHED_BYTES_MAX = 256 * 1024 * 1024;
/** A history larger than this is not cached. */
export const CACHED_HISTORY_BYTES_MAX = 16 * 1024 * 1024;
/** A delta longer than this is read whole through the underlying store instead of message by message. */
const DELTA_READ_MAX = 64;

/**
 * The JetStream event store with each subject's history remembered: a read first asks the subject's
 * last message (one round trip); when its sequence is the one remembered, the history is not read
 * again; when that message is the only one missing (it names the sequence it followed), it is the
 * whole delta; and when other writers appended more, only their events are fetched. The cache is
 * never trusted for a decision on its own — the append still carries the expected subject sequence — so a stale entry
 * costs a conflict and a re-read, never a lost update. Without it, every command on a hot key reads
 * the key's whole history (quadratic in its versions).
 */
export class CachingEventStore implements EventStore {
  private readonly histories: LruByteCache<StreamRead>;

  constructor(
    private readonly store: JetStreamEventStore,
    limits: { readonly bytesMax: number; readonly historyBytesMax: number } = { bytesMax: CACHED_BYTES_MAX, historyBytesMax: CACHED_HISTORY_BYTES_MAX },
  ) {
    this.histories = new LruByteCache({ entriesMax: CACHED_SUBJECTS_MAX, bytesMax: limits.bytesMax, entryBytesMax: limits.historyBytesMax });
  }

  lastSequence(subject: string): Promise<number> {
    return this.store.lastSequence(subject);
  }

  /** The subject's last sequence and event (see JetStreamEventStore.lastEvent); nothing kept. */
  lastEvent(subject: string): Promise<LastEvent> {
    return this.store.lastEvent(subject);
  }

  async read(subject: string): Promise<StreamRead> {
    const lastEvent = await this.store.lastEvent(subject);
    const last = lastEvent.sequence;
    const cached = this.histories.get(subject);
    if (cached && cached.value.lastSequence === last) return this.remember(subject, cached.value, cached.bytes);
    if (last === 0) return this.remember(subject, { events: [], lastSequence: 0 }, 0);
    // The last event follows what is kept (or starts the subject): the look-up itself brought it.
    const kept = cached && cached.value.lastSequence < last ? cached : undefined;
    if (lastEvent.event && lastEvent.previousSequence === (kept?.value.lastSequence ?? 0)) {
      const appended = [lastEvent.event()];
      return this.remember(subject, { events: [...(kept?.value.events ?? []), ...appended], lastSequence: last }, (kept?.bytes ?? 0) + bytesOf(appended));
    }
    if (cached && cached.value.lastSequence < last && cached.value.events.length + DELTA_READ_MAX <= CACHED_EVENTS_PER_SUBJECT_MAX) {
      const delta = await this.readAfter(subject, cached.value.lastSequence, last);
      if (delta) return this.remember(subject, { events: [...cached.value.events, ...delta], lastSequence: last }, cached.bytes + bytesOf(delta));
    }
    const full = await this.store.read(subject);
    return this.remember(subject, full, bytesOf(full.events));
  }

  async append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult> {
    const result = await this.store.append(subject, events, expectedLastSequence);
    const cached = this.histories.get(subject);
    if (cached && cached.value.lastSequence === expectedLastSequence && events.length === 1 && !result.duplicate) {
      const appended = { envelope: events[0], sequence: result.lastSequence };
      this.remember(subject, { events: [...cached.value.events, appended], lastSequence: result.lastSequence }, cached.bytes + bytesOf([appended]));
    } else {
      this.histories.delete(subject);
    }
    return result;
  }

  /** The whole history, read from JetStream and not kept (FoldedStateCache keeps the folded state instead). */
  readUncached(subject: string): Promise<StreamRead> {
    return this.store.read(subject);
  }

  /** The subject's events after `after` up to `last`, or undefined when there are too many to fetch one by one. */
  readAfter(subject: string, after: number, last: number): Promise<StoredEvent[] | undefined> {
    return this.store.readAfter(subject, after, last, DELTA_READ_MAX);
  }

  private remember(subject: string, read: StreamRead, bytes: number): StreamRead {
    if (read.events.length > CACHED_EVENTS_PER_SUBJECT_MAX) this.histories.delete(subject);
    else this.histories.set(subject, read, bytes);
    return read;
  }

  /** Bytes held in the cache, for tests and metrics. */
  get sizeBytes(): number {
    return this.histories.sizeBytes;
  }
}

function bytesOf(events: readonly StoredEvent[]): number {
  let bytes = 0;
  for (const event of events) bytes += JSON.stringify(event.envelope).length;
  return bytes;
}
