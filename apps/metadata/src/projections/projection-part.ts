import type { MetadataEvent } from '@cairn/protocol';
import type { EntityManager } from 'typeorm';

/**
 * One share of the metadata projection: the rows some events change, in its own tables (an
 * aggregate's part, or a read model fed by a few types, like the conflict log). MetadataProjection
 * hands each event to every part that handles its type, in the order the parts were listed (`apply`
 * is a method, so a part of one aggregate's events is a part of MetadataEvent for the dispatcher).
 */
export interface MetadataProjectionPart<E extends MetadataEvent = MetadataEvent> {
  /** Every type of the aggregate's events: an exhaustive list (eventTypes); or the few types a read model is fed. */
  readonly handles: readonly E['type'][];
  apply(tx: EntityManager, event: E, sequence: number): Promise<void>;
}

/** The keys of a record that must name every event type of a union: a type left out does not compile. */
export function eventTypes<E extends MetadataEvent>(all: Readonly<Record<E['type'], true>>): readonly E['type'][] {
  return Object.keys(all) as E['type'][];
}
