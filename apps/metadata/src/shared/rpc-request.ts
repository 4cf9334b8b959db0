import { MetadataErrorCodes } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';
import { refuseNul } from '../domain/shared/validation';
import type { ProjectionTracker } from '../projections/projection-tracker';
import type { MetadataCommandContext } from './metadata-command-context';

/**
 * A request must be a JSON object without NUL in its text (Postgres, which listings query and
 * projections write, takes none: refuseNul); the handlers and deciders validate its fields.
 */
export function body<T>(payload: T): NonNullable<T> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new MetadataError(MetadataErrorCodes.InvalidRequest, 'the request must be a JSON object');
  }
  refuseNul(payload);
  return payload as NonNullable<T>;
}

/**
 * Reads through the projection; a miss whose subject already has events (written moments ago,
 * perhaps through another gateway that this caller knows nothing of) waits for the projection to
 * apply them and reads again, so a bucket or access key is usable as soon as its creation is acknowledged.
 */
export async function readCatchingUp<T>(
  context: MetadataCommandContext,
  projection: ProjectionTracker,
  subject: string,
  read: () => Promise<T | null>,
): Promise<T | null> {
  const found = await read();
  if (found !== null) return found;
  const last = await context.store.lastSequence(subject);
  if (last === 0) return null;
  await projection.waitFor('META', last);
  return read();
}
