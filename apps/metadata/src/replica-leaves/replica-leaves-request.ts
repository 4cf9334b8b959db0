import { MetadataErrorCodes, REPLICA_LEAVES_LIMIT_DEFAULT, REPLICA_LEAVES_LIMIT_MAX } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';
import type { ReplicaLeafRange } from './replica-leaves.queries';

const PREFIX_PATTERN = /^[0-9a-f]{0,64}$/;
const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;
const REQUEST_FIELDS: ReadonlySet<string> = new Set(['bucket', 'keyIdPrefix', 'after', 'afterKeyId', 'limit']);
const POSITION_FIELDS: ReadonlySet<string> = new Set(['keyId', 'versionId']);
const VERSION_ID_MAX_CHARS = 1024;

/**
 * The range of a ListReplicaLeavesRequest; InvalidArgument for anything but its documented shape
 * (an unknown field too: a misspelt prefix would silently widen the range to the whole bucket).
 */
export function replicaLeafRange(request: unknown): ReplicaLeafRange {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('the request must be a JSON object');
  const fields = request as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((name) => !REQUEST_FIELDS.has(name));
  if (unknown.length > 0) throw invalid(`unknown field(s) ${unknown.join(', ')}`);
  const { bucket, keyIdPrefix = '', after = null, afterKeyId = null, limit = REPLICA_LEAVES_LIMIT_DEFAULT } = withoutNulls(fields);
  if (typeof bucket !== 'string' || bucket.length === 0) throw invalid('bucket must be a bucket name');
  if (typeof keyIdPrefix !== 'string' || !PREFIX_PATTERN.test(keyIdPrefix)) throw invalid('keyIdPrefix must be 0 to 64 lowercase hex digits');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > REPLICA_LEAVES_LIMIT_MAX) {
    throw invalid(`limit must be an integer in 1..${REPLICA_LEAVES_LIMIT_MAX}`);
  }
  if (afterKeyId !== null && (typeof afterKeyId !== 'string' || !KEY_ID_PATTERN.test(afterKeyId))) throw invalid('afterKeyId must be 64 lowercase hex digits');
  if (afterKeyId !== null && after !== null) throw invalid('give after or afterKeyId, not both');
  return { bucket, keyIdPrefix, after: after === null ? null : positionOf(after), afterKeyId, limit };
}

function positionOf(after: unknown): { keyId: string; versionId: string } {
  if (typeof after !== 'object' || after === null || Array.isArray(after)) throw invalid('after must be {keyId, versionId}');
  const fields = after as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((name) => !POSITION_FIELDS.has(name));
  if (unknown.length > 0) throw invalid(`unknown field(s) of after: ${unknown.join(', ')}`);
  const { keyId, versionId } = fields;
  if (typeof keyId !== 'string' || !KEY_ID_PATTERN.test(keyId)) throw invalid('after.keyId must be 64 lowercase hex digits');
  if (typeof versionId !== 'string' || versionId.length === 0 || versionId.length > VERSION_ID_MAX_CHARS) throw invalid('after.versionId must be a version id');
  return { keyId, versionId };
}

function withoutNulls(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));
}

function invalid(message: string): MetadataError {
  return new MetadataError(MetadataErrorCodes.InvalidArgument, message);
}
