import { wrapEvent, type DomainEvent, type EventEnvelope } from '@cairn/protocol';
import { foldEvents, type Decider } from './decider';
import { ConcurrencyConflictError, type EventStore } from './event-store.port';

/** Bound on reload-and-retry after a concurrency conflict: past it the caller sees the conflict. */
export const MAX_CONFLICT_RETRIES = 20;

export interface CommandContext {
  readonly region: string;
  /** Another region's change being applied here (EventEnvelope.origin). */
  readonly origin?: string;
  readonly causationId?: string | null;
  readonly correlationId?: string | null;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly nextHlc: () => string;
}

export interface HandledCommand<Event extends DomainEvent, State> {
  readonly events: readonly EventEnvelope<Event['type'], Event['data']>[];
  readonly state: State;
  /** The stream sequence after the append (or of the state read, when nothing was decided). */
  readonly sequence: number;
  readonly attempts: number;
}

export interface CommandHandlerOptions {
  readonly maxRetries?: number;
  /** The version new events are stamped with; the store reads old ones upcast to it. */
  readonly schemaVersionOf?: (eventType: string) => number;
  /** Called between conflicting attempts; lets the shell add jittered backoff. */
  readonly onConflict?: (attempt: number, error: ConcurrencyConflictError) => Promise<void> | void;
  /**
   * The aggregate's current state and its subject's last sequence, folded by a cache instead of
   * read and folded here; `onAppended` then hears of each state the handler appends.
   */
  readonly states?: {
    /**
     * With `trustKept` (the first attempt only) the cache may answer what it keeps without asking
     * the subject's last sequence, marked `verified: false`: an append decided on it still carries
     * that sequence as its expectation, so a stale state costs a conflict and a reload, never a
     * lost update; and an answer that appends nothing is checked with `isCurrent` before it is
     * given (else the command runs again on a verified state).
     */
    load(trustKept: boolean): Promise<{ readonly state: unknown; readonly sequence: number; readonly verified?: boolean }>;
    appended(state: unknown, sequence: number): void;
    /** Whether `sequence` is still the subject's last: required when `load` may answer unverified. */
    isCurrent?(sequence: number): Promise<boolean>;
  };
}

/**
 * Load the aggregate's events from its subject, fold them into state, decide, and append the new
 * events guarded by the subject sequence that was read. A concurrent writer makes the append
 * fail; then the whole load–decide–append runs again on fresh state, up to a bound.
 */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  store: EventStore,
  decider: Decider<Command, Event, State>,
  subject: string,
  aggregateId: string,
  command: Command,
  ctx: CommandContext,
  options: CommandHandlerOptions = {},
): Promise<HandledCommand<Event, State>> {
  const maxRetries = options.maxRetries ?? MAX_CONFLICT_RETRIES;
  const versionOf = options.schemaVersionOf ?? (() => 1);
  const states = options.states;
  for (let attempt = 1; ; attempt++) {
    const read = states ? await states.load(attempt === 1 && states.isCurrent !== undefined) : undefined;
    const { state, sequence } = read ? { state: read.state as State, sequence: read.sequence } : await readAndFold(store, decider, subject);
    // An answer that appends nothing is only as current as the state it was decided on.
    const stale = read?.verified === false ? () => states!.isCurrent!(sequence).then((current) => !current) : () => Promise.resolve(false);
    let decided: readonly Event[];
    try {
      decided = decider.decide(command, state);
    } catch (error) {
      if (await stale()) continue;
      throw error;
    }
    if (decided.length === 0) {
      if (await stale()) continue;
      return { events: [], state, sequence, attempts: attempt };
    }
    const now = ctx.now();
    const envelopes = decided.map((event) =>
      wrapEvent(event, versionOf(event.type), {
        region: ctx.region,
        ...(ctx.origin === undefined ? {} : { origin: ctx.origin }),
        aggregateId,
        causationId: ctx.causationId,
        correlationId: ctx.correlationId,
        now,
        newId: ctx.newId,
        nextHlc: ctx.nextHlc,
      }),
    );
    try {
      const appended = await store.append(subject, envelopes, sequence);
      const next = foldEvents(decider, decided, state);
      options.states?.appended(next, appended.lastSequence);
      return { events: envelopes, state: next, sequence: appended.lastSequence, attempts: attempt };
    } catch (error) {
      if (!(error instanceof ConcurrencyConflictError) || attempt > maxRetries) throw error;
      // A kept state that turned out stale is no contention: reload at once.
      if (read?.verified !== false) await options.onConflict?.(attempt, error);
    }
  }
}

async function readAndFold<Command, Event extends DomainEvent, State>(
  store: EventStore,
  decider: Decider<Command, Event, State>,
  subject: string,
): Promise<{ state: State; sequence: number }> {
  const read = await store.read(subject);
  const history = read.events.map(({ envelope }) => ({ type: envelope.type, data: envelope.data }) as Event);
  return { state: foldEvents(decider, history), sequence: read.lastSequence };
}
