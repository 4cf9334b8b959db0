import { MAX_SINGLE_PUT_SIZE_BYTES, type ComputedDigests } from '../s3';
import { storeChunkedBody, type StoredBody } from '../data-path/chunked-body.writer';
import type { GatewayDeps } from './gateway-deps';
import { openRequestBody } from './request-body';
import type { S3Exchange } from './s3-exchange';
import { encryptChunk } from '../encryption/chunk-cipher';

/** Stores an upload's bytes as chunks, under the gateway's write budget and the single-PUT size limit. */
export function storeUploadBytes(deps: GatewayDeps, source: AsyncIterable<Buffer>, sizeHintBytes: number | undefined, dataKey?: Buffer): Promise<StoredBody> {
  return storeChunkedBody(source, {
    store: deps.chunks,
    chunkSizeBytes: deps.chunkSizeBytes,
    inlineMaxBytes: deps.inlineObjectMaxBytes,
    maxSizeBytes: MAX_SINGLE_PUT_SIZE_BYTES,
    budget: deps.writeBudget,
    ...(sizeHintBytes !== undefined ? { sizeHintBytes } : {}),
    ...(dataKey ? { encrypt: (plain: Buffer) => encryptChunk(dataKey, plain) } : {}),
  });
}

/**
 * The body of a PutObject or UploadPart: decoded, stored chunk by chunk, then checked against
 * every digest the request declared. Nothing is committed to metadata before this returns.
 */
export async function receiveUploadBody(ex: S3Exchange, deps: GatewayDeps, dataKey?: Buffer): Promise<{ stored: StoredBody; digests: ComputedDigests }> {
  const body = openRequestBody(ex.req, ex.caller, { maxSizeBytes: MAX_SINGLE_PUT_SIZE_BYTES });
  const stored = await storeUploadBytes(deps, body.source, body.expectedSizeBytes, dataKey);
  return { stored, digests: body.finish() };
}
