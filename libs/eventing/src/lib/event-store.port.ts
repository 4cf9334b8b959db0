import type { EventEnvelope } from '@cairn/protocol';

export const EVENT_STORE = Symbol('EVENT_STORE');

export interface StoredEvent {
  readonly envelope: EventEnvelope;
  /** The stream sequence the event was stored at. */
  readonly sequence: number;
}

export interface StreamRead {
  readonly events: readonly StoredEvent[];
  /** The sequence of the last event on this subject, or 0 when there is none. */
  readonly lastSequence: number;
}

export interface AppendResult {
  /** The stream sequence of the last appended event. */
  readonly lastSequence: number;
  /** True when the store recognised the message ids of a retried append and stored nothing new. */
  readonly duplicate: boolean;
}

/**
 * Where events live (JetStream in production; in memory for unit tests). Appends are guarded by
 * the subject's last sequence, so a writer that decided on stale state gets a
 * ConcurrencyConflictError instead of overwriting somebody else's decision.
 */
export interface EventStore {
  /** The subject's history, each event in its type's current shape: a store of old events upcasts them as it reads. */
  read(subject: string): Promise<StreamRead>;
  append(subject: string, events: readonly EventEnvelope[], expectedLastSequence: number): Promise<AppendResult>;
}

export class ConcurrencyConflictError extends Error {
  readonly code = 'CONCURRENCY_CONFLICT';
  constructor(
    readonly subject: string,
    readonly expectedLastSequence: number,
    readonly actualLastSequence?: number,
  ) {
    super(
      `concurrent append on ${subject}: expected last sequence ${expectedLastSequence}` +
        (actualLastSequence === undefined ? '' : `, found ${actualLastSequence}`),
    );
    this.name = 'ConcurrencyConflictError';
  }
}
