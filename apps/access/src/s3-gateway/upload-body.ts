import { MAX_SINGLE_PUT_SIZE_BYTES, type ComputedDigests } from '../s3';
import { storeChunkedBody, type StoredBody } from '../data-path/chunked-body.writer';
import type { GatewayDeps } from './gateway-deps';
import { openRequestBody } from './request-body';
import type { S3Exchange } from './s3-exchange';
import { encryptChunk } from '../encryption/chunk-cipher';
import type { UploadHashes } from '../data-path/upload-hashes';

/** A body at least this long (or of unknown length) is hashed on a worker thread, when the gateway has them. */
export const WORKER_HASHES_MIN_BYTES = 1024 * 1024;

/** Stores an upload's bytes as chunks, under the gateway's write budget and the single-PUT size limit. */
export function storeUploadBytes(deps: GatewayDeps, source: AsyncIterable<Buffer>, sizeHintBytes: number | undefined, dataKey?: Buffer, hashes?: UploadHashes): Promise<StoredBody> {
  return storeChunkedBody(source, {
    store: deps.chunks,
    chunkSizeBytes: deps.chunkSizeBytes,
    inlineMaxBytes: deps.inlineObjectMaxBytes,
    maxSizeBytes: MAX_SINGLE_PUT_SIZE_BYTES,
    budget: deps.writeBudget,
    ...(sizeHintBytes !== undefined ? { sizeHintBytes } : {}),
    ...(dataKey ? { encrypt: (plain: Buffer) => encryptChunk(dataKey, plain) } : {}),
    ...(hashes ? { hashes } : {}),
  });
}

/**
 * The body of a PutObject or UploadPart: decoded, stored chunk by chunk, then checked against
 * every digest the request declared. Nothing is committed to metadata before this returns.
 */
export async function receiveUploadBody(ex: S3Exchange, deps: GatewayDeps, dataKey?: Buffer): Promise<{ stored: StoredBody; digests: ComputedDigests }> {
  const openHashes = deps.uploadHashes;
  const body = openRequestBody(ex.req, ex.caller, {
    maxSizeBytes: MAX_SINGLE_PUT_SIZE_BYTES,
    md5Elsewhere: (expectedSizeBytes) => openHashes !== undefined && (expectedSizeBytes === undefined || expectedSizeBytes >= WORKER_HASHES_MIN_BYTES),
  });
  const hashes = body.md5Elsewhere ? openHashes?.() : undefined;
  let stored: StoredBody;
  let bodyMd5: Buffer | undefined;
  try {
    stored = await storeUploadBytes(deps, body.source, body.expectedSizeBytes, dataKey, hashes);
    bodyMd5 = await hashes?.digest();
  } catch (error) {
    hashes?.drop();
    throw error;
  }
  return { stored, digests: body.finish(bodyMd5) };
}

