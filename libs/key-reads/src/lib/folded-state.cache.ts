import type { StoredEvent } from '@cairn/eventing';
import type { DomainEvent } from '@cairn/protocol';
import type { CachingEventStore } from './caching-event-store';
import { LruByteCache, type LruByteCacheLimits } from './lru-byte-cache';

/** How a subject's events fold into a state, and roughly how many bytes a state holds. */
export interface StateFold<E extends DomainEvent, S> {
  initial(): S;
  evolve(state: S, event: E): S;
  sizeOf(state: S): number;
}

/**
 * Aggregate states folded from their subjects and kept, least recently used out, within a count and
 * a byte budget. A load asks the subject's last message (one round trip); a kept state that is
 * current is answered as is; one that message follows (it names the sequence it was appended
 * after), or a subject whose first message it is, takes just that message with no further read;
 * one a few events behind is brought forward with just those events, and otherwise the history is
 * read and folded once. So a key overwritten thousands of times costs
 * one small read per request, not its whole history. A command's first attempt may skip even that
 * read (`loadUnverified`): its append's expected sequence is the check.
 */
export class FoldedStateCache<E extends DomainEvent, S> {
  private readonly states: LruByteCache<{ readonly state: S; readonly sequence: number }>;

  constructor(
    private readonly store: CachingEventStore,
    private readonly fold: StateFold<E, S>,
    limits: LruByteCacheLimits,
  ) {
    this.states = new LruByteCache(limits);
  }

  async load(subject: string): Promise<{ state: S; sequence: number }> {
    const lastEvent = await this.store.lastEvent(subject);
    const last = lastEvent.sequence;
    const kept = this.states.get(subject)?.value;
    if (kept && kept.sequence === last) return this.remember(subject, kept.state, last);
    if (last === 0) return this.remember(subject, this.fold.initial(), 0);
    // The last event follows the kept state (or starts the subject): the look-up itself brought it.
    const behind = kept && kept.sequence < last ? kept : { state: this.fold.initial(), sequence: 0 };
    if (lastEvent.event && lastEvent.previousSequence === behind.sequence) {
      return this.remember(subject, this.foldEvents(behind.state, [lastEvent.event()]), last);
    }
    if (kept && kept.sequence < last) {
      const delta = await this.store.readAfter(subject, kept.sequence, last);
      if (delta) return this.remember(subject, this.foldEvents(kept.state, delta), last);
    }
    const full = await this.store.readUncached(subject);
    return this.remember(subject, this.foldEvents(this.fold.initial(), full.events), full.lastSequence);
  }

  /**
   * For a command's first attempt: the kept state as is, or, for a subject this cache does not
   * know, the initial state at sequence 0 (most keys written are new) — no round trip, marked
   * unverified. The command's append expects that sequence, so a guess that is wrong costs one
   * conflict and a `load`; an answer that appends nothing is checked with `isCurrent` first.
   */
  loadUnverified(subject: string): { state: S; sequence: number; verified: false } {
    const kept = this.states.get(subject)?.value;
    return kept ? { state: kept.state, sequence: kept.sequence, verified: false } : { state: this.fold.initial(), sequence: 0, verified: false };
  }

  /** Whether `sequence` is the subject's last (one round trip). */
  async isCurrent(subject: string, sequence: number): Promise<boolean> {
    return (await this.store.lastSequence(subject)) === sequence;
  }

  /** A state the caller appended itself, at the subject's new last sequence. */
  remember(subject: string, state: S, sequence: number): { state: S; sequence: number } {
    this.states.set(subject, { state, sequence }, this.fold.sizeOf(state));
    return { state, sequence };
  }

  get sizeBytes(): number {
    return this.states.sizeBytes;
  }

  private foldEvents(state: S, events: readonly StoredEvent[]): S {
    let folded = state;
    for (const stored of events) folded = this.fold.evolve(folded, { type: stored.envelope.type, data: stored.envelope.data } as E);
    return folded;
  }
}
