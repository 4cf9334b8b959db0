import type { StoredEvent } from '@cairn/eventing';
import type { DomainEvent } from '@cairn/protocol';
import type { CachingEventStore } from './caching-event-store.adapter';

/** How a subject's events fold into a state, and roughly how many bytes a state holds. */
export interface StateFold<E extends DomainEvent, S> {
  initial(): S;
  evolve(state: S, event: E): S;
  sizeOf(state: S): number;
}

export interface FoldedStateLimits {
  readonly entriesMax: number;
  readonly bytesMax: number;
}

interface Entry<S> {
  readonly state: S;
  readonly sequence: number;
  readonly bytes: number;
}

/**
 * Aggregate states folded from their subjects and kept, least recently used out, within a count and
 * a byte budget. A load asks the subject's last sequence (one round trip); a kept state that is
 * current is answered as is, one a few events behind is brought forward with just those events,
 * and otherwise the history is read and folded once. So a key overwritten thousands of times costs
 * one small read per request, not its whole history.
 */
export class FoldedStateCache<E extends DomainEvent, S> {
  private readonly entries = new Map<string, Entry<S>>();
  private bytes = 0;

  constructor(
    private readonly store: CachingEventStore,
    private readonly fold: StateFold<E, S>,
    private readonly limits: FoldedStateLimits,
  ) {}

  async load(subject: string): Promise<{ state: S; sequence: number }> {
    const last = await this.store.lastSequence(subject);
    const kept = this.entries.get(subject);
    if (kept && kept.sequence === last) return this.remember(subject, kept.state, last);
    if (kept && kept.sequence < last) {
      const delta = await this.store.readAfter(subject, kept.sequence, last);
      if (delta) return this.remember(subject, this.foldEvents(kept.state, delta), last);
    }
    const full = await this.store.readUncached(subject);
    return this.remember(subject, this.foldEvents(this.fold.initial(), full.events), full.lastSequence);
  }

  /** A state the caller appended itself, at the subject's new last sequence. */
  remember(subject: string, state: S, sequence: number): { state: S; sequence: number } {
    this.forget(subject);
    const bytes = this.fold.sizeOf(state);
    if (bytes <= this.limits.bytesMax) {
      this.entries.set(subject, { state, sequence, bytes });
      this.bytes += bytes;
      while (this.entries.size > this.limits.entriesMax || this.bytes > this.limits.bytesMax) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.forget(oldest);
      }
    }
    return { state, sequence };
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private forget(subject: string): void {
    const kept = this.entries.get(subject);
    if (!kept) return;
    this.entries.delete(subject);
    this.bytes -= kept.bytes;
  }

  private foldEvents(state: S, events: readonly StoredEvent[]): S {
    let folded = state;
    for (const stored of events) folded = this.fold.evolve(folded, { type: stored.envelope.type, data: stored.envelope.data } as E);
    return folded;
  }
}
