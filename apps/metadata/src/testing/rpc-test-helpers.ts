import { createHash } from 'node:crypto';
import { CairnError, type PutObjectRequest } from '@cairn/protocol';

/** How long a test waits for one metadata RPC. */
export const RPC_TIMEOUT_MS = 15_000;

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A put request for `content` as one chunk (none when empty), as access would send it. */
export function body(key: string, content: string): Omit<PutObjectRequest, 'bucket'> {
  const size = Buffer.byteLength(content);
  return { key, sizeBytes: size, etag: md5(content), chunks: size ? [{ hash: sha256(content), offsetBytes: 0, sizeBytes: size }] : [], contentType: 'text/plain' };
}

/** 'OK', or the stable code of the CairnError the call failed with. */
export async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'OK';
  } catch (error) {
    if (error instanceof CairnError) return error.code;
    throw error;
  }
}
