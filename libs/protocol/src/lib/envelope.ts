/**
 * The event envelope (docs/architecture.md §2). Every event appended to JetStream is one of these,
 * serialised as JSON. `data` is the event's own payload; the rest is provenance.
 */
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  readonly id: string;
  readonly type: TType;
  readonly schemaVersion: number;
  readonly aggregateId: string;
  readonly region: string;
  /**
   * The region that first accepted the change, when this event is another region's change applied
   * here by sync (replication): the event was appended in `region`, but belongs to `origin`. Absent
   * on a region's own changes. Sync replicates only a region's own changes, so none loops back.
   */
  readonly origin?: string;
  /** Hybrid logical clock timestamp, encoded by `encodeHlc` in @cairn/hashing. */
  readonly hlc: string;
  readonly causationId: string | null;
  readonly correlationId: string | null;
  /** ISO-8601 wall-clock time at the writer; informative only, never used for ordering. */
  readonly occurredAt: string;
  readonly data: TData;
}

/** A domain event as deciders produce it: a literal type and its data, no provenance yet. */
export interface DomainEvent<TType extends string = string, TData = unknown> {
  readonly type: TType;
  readonly data: TData;
}

/** Provenance that the command handler supplies when it wraps decided events into envelopes. */
export interface EnvelopeContext {
  readonly region: string;
  /** Set when the events are another region's change being applied here (EventEnvelope.origin). */
  readonly origin?: string;
  readonly aggregateId: string;
  readonly causationId?: string | null;
  readonly correlationId?: string | null;
  readonly now: Date;
  readonly newId: () => string;
  readonly nextHlc: () => string;
}

export function wrapEvent<E extends DomainEvent>(
  event: E,
  schemaVersion: number,
  ctx: EnvelopeContext,
): EventEnvelope<E['type'], E['data']> {
  return {
    id: ctx.newId(),
    type: event.type,
    schemaVersion,
    aggregateId: ctx.aggregateId,
    region: ctx.region,
    ...(ctx.origin === undefined ? {} : { origin: ctx.origin }),
    hlc: ctx.nextHlc(),
    causationId: ctx.causationId ?? null,
    correlationId: ctx.correlationId ?? null,
    occurredAt: ctx.now.toISOString(),
    data: event.data,
  };
}

export function isEventEnvelope(value: unknown): value is EventEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['id'] === 'string' &&
    typeof v['type'] === 'string' &&
    typeof v['schemaVersion'] === 'number' &&
    typeof v['aggregateId'] === 'string' &&
    typeof v['region'] === 'string' &&
    typeof v['hlc'] === 'string' &&
    'data' in v
  );
}
