import { ChunkHealthSchemaVersions } from './cluster/chunk-health.events';
import { DrillSchemaVersions } from './cluster/drill.events';
import { InstanceHealthSchemaVersions } from './cluster/instance-health.events';
import { isEventEnvelope, type EventEnvelope } from './envelope';
import { MetadataEventSchemaVersions } from './metadata/metadata-events';
import { METADATA_UPCASTERS } from './metadata/metadata.upcasters';
import { UpcasterRegistry } from './upcasting';

/**
 * Every stored event family's current versions and upcasters: the one chain every reader of a
 * stream applies (upcasting.ts says how to extend it).
 */
export const EVENT_SCHEMAS = new UpcasterRegistry(oneTable(MetadataEventSchemaVersions, ChunkHealthSchemaVersions, InstanceHealthSchemaVersions, DrillSchemaVersions), [
  ...METADATA_UPCASTERS,
]);

/**
 * A message read from a stream as this code reads events: checked to be an envelope, then lifted to
 * its type's current shape. `where` names the message in the error (`META #42`).
 */
export function currentEnvelope(value: unknown, where: string): EventEnvelope {
  if (!isEventEnvelope(value)) throw new Error(`${where} is not an event envelope`);
  return EVENT_SCHEMAS.upcast(value);
}

/** The families' version tables as one; an event type two families declared would be ambiguous. */
function oneTable(...families: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const table: Record<string, number> = {};
  for (const family of families) {
    for (const [type, version] of Object.entries(family)) {
      if (Object.hasOwn(table, type)) throw new Error(`event type ${type} is declared by two families`);
      table[type] = version;
    }
  }
  return table;
}
