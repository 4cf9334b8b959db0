import { CHUNK_REFERENCES_LIMIT_DEFAULT, CHUNK_REFERENCES_LIMIT_MAX, MetadataErrorCodes } from '@cairn/protocol';
import type { ChunkReferenceRange } from './chunk-references.queries';
import { MetadataError } from '../domain/shared/metadata.errors';

const HASH_AFTER_PATTERN = /^(?:[0-9a-f]{64})?$/;
const HASH_BEFORE_PATTERN = /^[0-9a-f]{1,64}$/;
const REQUEST_FIELDS: ReadonlySet<string> = new Set(['after', 'before', 'limit']);

/** The range of a ListChunkReferencesRequest; InvalidArgument for anything but the request's documented shape (an unknown field too: a misspelt bound would widen the range). */
export function chunkReferenceRange(request: unknown): ChunkReferenceRange {
  const r = request ?? {};
  if (typeof r !== 'object' || Array.isArray(r)) throw invalid('the request must be a JSON object');
  const fields = r as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((name) => !REQUEST_FIELDS.has(name));
  if (unknown.length > 0) throw invalid(`unknown field(s) ${unknown.join(', ')}`);
  const { after = '', before = null, limit = CHUNK_REFERENCES_LIMIT_DEFAULT } = withoutNulls(fields);
  if (typeof after !== 'string' || !HASH_AFTER_PATTERN.test(after)) throw invalid('after must be 64 lowercase hex digits or empty');
  if (before !== null && (typeof before !== 'string' || !HASH_BEFORE_PATTERN.test(before))) throw invalid('before must be 1 to 64 lowercase hex digits');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > CHUNK_REFERENCES_LIMIT_MAX) {
    throw invalid(`limit must be an integer in 1..${CHUNK_REFERENCES_LIMIT_MAX}`);
  }
  return { after, before, limit };
}

function withoutNulls(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));
}

function invalid(message: string): MetadataError {
  return new MetadataError(MetadataErrorCodes.InvalidArgument, message);
}
