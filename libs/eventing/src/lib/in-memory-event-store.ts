import type { EventEnvelope } from '@cairn/protocol';
import { ConcurrencyConflictError, type AppendResult, type EventStore, type StoredEvent, type StreamRead } from './event-store.port';

/** The EventStore for unit tests: one global sequence, per-subject guards, idempotent by event id. */
export class InMemoryEventStore implements EventStore {
  private sequence = 0;
  private readonly bySubject = new Map<string, StoredEvent[]>();
  private readonly seenIds = new Map<string, number>();

  async read(subject: string): Promise<StreamRead> {
    const events = this.bySubject.get(subject) ?? [];
    return { events: [...events], lastSequence: events.at(-1)?.sequence ?? 0 };
  }

  async append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult> {
    if (events.length > 0 && events.every((e) => this.seenIds.has(e.id))) {
      return { lastSequence: this.seenIds.get(events.at(-1)!.id)!, duplicate: true };
    }
    const stored = this.bySubject.get(subject) ?? [];
    const actual = stored.at(-1)?.sequence ?? 0;
    if (actual !== expectedLastSequence) throw new ConcurrencyConflictError(subject, expectedLastSequence, actual);
    for (const envelope of events) {
      this.sequence += 1;
      stored.push({ envelope, sequence: this.sequence });
      this.seenIds.set(envelope.id, this.sequence);
    }
    this.bySubject.set(subject, stored);
    return { lastSequence: this.sequence, duplicate: false };
  }

  /** Every event in append order, for projection tests. */
  all(): StoredEvent[] {
    return [...this.bySubject.values()].flat().sort((a, b) => a.sequence - b.sequence);
  }
}
