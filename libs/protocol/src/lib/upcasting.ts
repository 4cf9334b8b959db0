import type { EventEnvelope } from './envelope';

/*
 * Stored events are never rewritten: an event keeps the shape and `schemaVersion` it was appended
 * with, and readers lift it to the current shape as they read it (EVENT_SCHEMAS in
 * event-schemas.ts, applied by every reader of a stream: the JetStream event store and the
 * projection consumers). Deciders, folds and projections see only current shapes, so they never
 * branch on "written by older code".
 *
 * To add a field to an event (or change its shape):
 *   1. Change the event's data type; a field every new event has is required, not optional.
 *   2. Bump the event type's version in its family's `...SchemaVersions` table (for example
 *      MetadataEventSchemaVersions): writers stamp new events with it.
 *   3. Add an upcaster from the old version to the new one beside the family's others (for
 *      example metadata-upcasters.ts): it fills the field as an event of the old version meant
 *      it. It is pure, sees that one event's data only, and never fails on a well-formed event.
 *   4. Add a spec that reads a raw envelope of the old version through EVENT_SCHEMAS and sees the
 *      current shape.
 * Never edit an upcaster that has shipped and never rewrite stored events: the next change is one
 * more step on the chain. What an old event meant that cannot be told from the event alone (it
 * depends on other events) is a rule of the domain, not an upcaster's job.
 */

/** Lifts the data of one event type from `fromVersion` to `fromVersion + 1`. */
export interface Upcaster {
  readonly type: string;
  readonly fromVersion: number;
  upcast(data: unknown): unknown;
}

/** Every event type's current version and the chain of upcasters that reaches it. */
export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();
  private readonly currentVersions = new Map<string, number>();

  /**
   * Refuses a table it could not serve: a type whose chain misses a step, an upcaster past its
   * type's current version, or two upcasters for one step.
   */
  constructor(currentVersions: Readonly<Record<string, number>>, upcasters: readonly Upcaster[] = []) {
    for (const [type, version] of Object.entries(currentVersions)) {
      if (!Number.isSafeInteger(version) || version < 1) throw new Error(`${type} has schema version ${version}, not a positive integer`);
      this.currentVersions.set(type, version);
    }
    for (const u of upcasters) {
      const key = stepKey(u.type, u.fromVersion);
      if (this.byKey.has(key)) throw new Error(`two upcasters for ${key}`);
      if (!(u.fromVersion >= 1 && u.fromVersion < this.currentVersionOf(u.type))) {
        throw new Error(`upcaster ${key} does not lead to ${u.type}'s current version ${this.currentVersionOf(u.type)}`);
      }
      this.byKey.set(key, u);
    }
    for (const [type, version] of this.currentVersions) {
      for (let from = 1; from < version; from++) {
        if (!this.byKey.has(stepKey(type, from))) throw new Error(`no upcaster for ${type} from version ${from}`);
      }
    }
  }

  /** A type the table does not name (no family declares it) is at version 1. */
  currentVersionOf(type: string): number {
    return this.currentVersions.get(type) ?? 1;
  }

  /** The envelope at its type's current version: the same object when it already is, else a copy. */
  upcast<E extends EventEnvelope>(envelope: E): E {
    const target = this.currentVersionOf(envelope.type);
    if (envelope.schemaVersion > target) {
      throw new Error(
        `event ${envelope.id} of type ${envelope.type} has schema version ${envelope.schemaVersion}, newer than this reader's ${target}`,
      );
    }
    let version = envelope.schemaVersion;
    let data = envelope.data;
    while (version < target) {
      const step = this.byKey.get(stepKey(envelope.type, version));
      if (!step) throw new Error(`no upcaster for ${envelope.type} from version ${version}`);
      data = step.upcast(data);
      version += 1;
    }
    return version === envelope.schemaVersion ? envelope : { ...envelope, schemaVersion: version, data };
  }
}

function stepKey(type: string, fromVersion: number): string {
  return `${type}@${fromVersion}`;
}
