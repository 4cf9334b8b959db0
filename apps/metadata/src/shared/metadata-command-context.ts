import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { foldEvents, handleCommand, type Decider, type HandledCommand, type StoredEvent } from '@cairn/eventing';
import { JetStreamEventStore } from '@cairn/messaging';
import { CachingEventStore, type FoldedStateCache } from '@cairn/key-reads';
import { MetadataEventSchemaVersions, subjectsFor, type DomainEvent, type Subjects } from '@cairn/protocol';
import { EventClock, SERVICE_IDENTITY, type ServiceIdentity } from '@cairn/service-kit';
import { refuseNul } from '../domain/shared/validation';

/** Random bytes after the HLC in a version id: two writers at one HLC tick still differ. */
const VERSION_ID_RANDOM_BYTES = 6;
/** Version ids' random bytes drawn at a time: one call to the CSPRNG per 256 ids (a call costs ~10x taking 6 pooled bytes). */
const VERSION_ID_POOL_BYTES = 256 * VERSION_ID_RANDOM_BYTES;
let versionIdPool = Buffer.alloc(0);
let versionIdPoolOffset = 0;

/** VERSION_ID_RANDOM_BYTES fresh random bytes as hex; each pooled byte is handed out once. */
export function versionIdRandomHex(): string {
  if (versionIdPoolOffset + VERSION_ID_RANDOM_BYTES > versionIdPool.length) {
    versionIdPool = randomBytes(VERSION_ID_POOL_BYTES);
    versionIdPoolOffset = 0;
  }
  const hex = versionIdPool.toString('hex', versionIdPoolOffset, versionIdPoolOffset + VERSION_ID_RANDOM_BYTES);
  versionIdPoolOffset += VERSION_ID_RANDOM_BYTES;
  return hex;
}
/** Longest jittered pause between conflicting attempts on one aggregate. */
const CONFLICT_BACKOFF_MAX_MS = 8;
/**
 * Reload-and-retry bound per command. Commands on one aggregate are queued per instance, so only
 * writers on other instances conflict; this bounds the damage of many instances on one hot key.
 */
const CONFLICT_RETRIES_MAX = 100;

export interface AggregateRead<State> {
  readonly state: State;
  /** The aggregate subject's last stream sequence (0 when it has no events). */
  readonly sequence: number;
  readonly events: readonly DomainEvent[];
  /** The same events as stored, with their stream sequences. */
  readonly stored: readonly StoredEvent[];
}

/**
 * What every command handler shares: the JetStream event store, the namespace's subjects, the
 * clock (time, HLC, ids) and load–decide–append with reload-and-retry on a conflict.
 */
@Injectable()
export class MetadataCommandContext {
  readonly subjects: Subjects;
  readonly store: CachingEventStore;

  constructor(
    jetstream: JetStreamEventStore,
    private readonly clock: EventClock,
    @Inject(SERVICE_IDENTITY) readonly identity: ServiceIdentity,
  ) {
    this.subjects = subjectsFor(identity.namespace);
    this.store = new CachingEventStore(jetstream);
  }

  nowIso(): string {
    return new Date().toISOString();
  }

  nextHlc(): string {
    return this.clock.nextHlc();
  }

  /** Another region's HLC seen: this region's next timestamps come after it. */
  observeHlc(encoded: string): void {
    this.clock.observeHlc(encoded);
  }

  /** Sortable by write time across instances (HLC first), unique by the random tail. */
  newVersionId(): string {
    return `${this.clock.nextHlc().replace('-', '')}${versionIdRandomHex()}`;
  }

  newId(): string {
    return this.clock.newId();
  }

  /**
   * Load–decide–append on one aggregate. Commands on the same subject run one after another in this
   * instance (a hot key would otherwise make N local writers race each other and retry O(N) times);
   * writers on other instances are ordered by the expected-sequence check and retried.
   */
  run<C, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    subject: string,
    aggregateId: string,
    command: C,
    states?: FoldedStateCache<E, S>,
    /** Set when the command applies another region's change: its events carry that origin. */
    origin?: string,
  ): Promise<HandledCommand<E, S>> {
    // No event may hold NUL: the projections could never store it (validation.ts, refuseNul).
    try {
      refuseNul(command);
    } catch (error) {
      return Promise.reject(error);
    }
    const context = origin === undefined ? this.clock.commandContext() : { ...this.clock.commandContext(), origin };
    return this.serialised(subject, () =>
      handleCommand(this.store, decider, subject, aggregateId, command, context, {
        maxRetries: CONFLICT_RETRIES_MAX,
        schemaVersionOf: (type) => MetadataEventSchemaVersions[type as keyof typeof MetadataEventSchemaVersions] ?? 1,
        onConflict: () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * CONFLICT_BACKOFF_MAX_MS))),
        ...(states
          ? {
              states: {
                load: async (trustKept: boolean) => (trustKept ? states.loadUnverified(subject) : states.load(subject)),
                appended: (state: unknown, sequence: number) => states.remember(subject, state as S, sequence),
                isCurrent: (sequence: number) => states.isCurrent(subject, sequence),
              },
            }
          : {}),
      }),
    );
  }

  private readonly queues = new Map<string, Promise<unknown>>();

  private serialised<T>(subject: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(subject) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(subject, tail);
    void tail.then(() => {
      if (this.queues.get(subject) === tail) this.queues.delete(subject);
    });
    return next;
  }

  /** The aggregate's current state, folded from its subject (never from the projection). */
  async load<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, subject: string): Promise<AggregateRead<S>> {
    const read = await this.store.read(subject);
    const events = read.events.map((stored) => ({ type: stored.envelope.type, data: stored.envelope.data }) as E);
    return { state: foldEvents(decider, events), sequence: read.lastSequence, events, stored: read.events };
  }
}

/** The data of the first decided event of `type` (envelopes do not narrow by their type field). */
export function decided<E extends DomainEvent, T extends E['type']>(
  events: readonly { readonly type: string; readonly data: unknown }[],
  type: T,
): Extract<E, { type: T }>['data'] | undefined {
  const found = events.find((e) => e.type === type);
  return found?.data as Extract<E, { type: T }>['data'] | undefined;
}
