import { MetadataErrorCodes, type MultipartUploadCompleted, type MultipartUploadInitiated } from '@cairn/protocol';
import { MetadataError } from '../domain/shared/metadata.errors';

/**
 * Room in one event for what is not the completion's data: the envelope (ids, HLC, times) and
 * what the version's event carries besides the completion's chunks and parts (counted apart: the
 * upload's metadata as initiated, which the version takes over).
 */
export const EVENT_ENVELOPE_ROOM_BYTES = 8 * 1024;

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;

/**
 * A completed upload is two events that each carry every chunk of the object: the completion on
 * the upload's subject, then the version on the key's (its chunks, part sizes and the upload's
 * metadata). Each is one NATS message, and nats-server refuses one over its max_payload. Refused
 * here, before anything is appended, when they would not fit in `maxEventBytes` (the connection's
 * largest message body): with EntityTooLarge naming about the largest object this server takes,
 * at this upload's bytes per chunk and its chunk size.
 */
export function requireCompletionFits(
  completed: MultipartUploadCompleted['data'],
  initiated: MultipartUploadInitiated['data'],
  maxEventBytes: number,
): void {
  const dataBytes = Buffer.byteLength(JSON.stringify(completed));
  const needed = dataBytes + Buffer.byteLength(JSON.stringify(initiated)) + EVENT_ENVELOPE_ROOM_BYTES;
  if (needed <= maxEventBytes) return;
  const chunks = completed.chunks.length;
  const chunkBytes = completed.chunks.reduce((largest, chunk) => Math.max(largest, chunk.sizeBytes), 0);
  const room = Math.max(0, maxEventBytes - (needed - dataBytes));
  const chunksThatFit = Math.floor((room / dataBytes) * chunks);
  const largest = chunksThatFit * chunkBytes;
  throw new MetadataError(
    MetadataErrorCodes.EntityTooLarge,
    `an object of ${chunks} chunks (${completed.parts.length} parts, ${formatBytes(completed.sizeBytes)}) needs ${needed} bytes of metadata in one ` +
      `event; this server takes at most ${maxEventBytes} (its NATS max_payload): about ${chunksThatFit} chunks, an object of at most about ` +
      `${formatBytes(largest)} in chunks of ${formatBytes(chunkBytes)}`,
    { sizeBytes: completed.sizeBytes, chunks, maxChunks: chunksThatFit, maxSizeBytes: largest },
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
