import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';

/**
 * Chunk bytes at rest: AES-256-CTR under the version's data key, each chunk from its own random
 * 128-bit initial counter (ChunkRef.iv). CTR rather than GCM so that a range read fetches and
 * decrypts only the bytes it serves: the counter for byte `n` of a chunk is iv + n/16. Integrity is
 * the chunk's name: its SHA-256 (of the ciphertext) is in metadata, and storage nodes and the
 * gateway check whole chunks against it, as they do for unencrypted chunks (docs/encryption.md).
 */
export const CHUNK_IV_BYTES = 16;
const AES_BLOCK_BYTES = 16;

export interface SealedChunk {
  readonly bytes: Buffer;
  /** base64 of the chunk's initial counter. */
  readonly iv: string;
}

export function encryptChunk(dataKey: Buffer, plain: Buffer): SealedChunk {
  const iv = randomBytes(CHUNK_IV_BYTES);
  const cipher = createCipheriv('aes-256-ctr', dataKey, iv);
  const bytes = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { bytes, iv: iv.toString('base64') };
}

/** A decipher positioned at byte `fromBytes` of a chunk whose initial counter is `ivBase64`. */
function decipherAt(dataKey: Buffer, ivBase64: string, fromBytes: number) {
  const iv = Buffer.from(ivBase64, 'base64');
  if (iv.length !== CHUNK_IV_BYTES) throw new Error('a chunk IV is not 16 bytes');
  const decipher = createDecipheriv('aes-256-ctr', dataKey, counterPlus(iv, Math.floor(fromBytes / AES_BLOCK_BYTES)));
  const skip = fromBytes % AES_BLOCK_BYTES;
  if (skip > 0) decipher.update(Buffer.alloc(skip));
  return decipher;
}

/** Decrypts ciphertext that starts at byte `fromBytes` of its chunk. */
export function decryptChunkBytes(dataKey: Buffer, ivBase64: string, fromBytes: number, cipherBytes: Buffer): Buffer {
  const decipher = decipherAt(dataKey, ivBase64, fromBytes);
  return Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
}

/** A stream that decrypts a chunk's bytes from `fromBytes` on as they pass. */
export function decryptingStream(dataKey: Buffer, ivBase64: string, fromBytes: number): Transform {
  const decipher = decipherAt(dataKey, ivBase64, fromBytes);
  return new Transform({
    transform(piece: Buffer, _encoding, done) {
      done(null, decipher.update(piece));
    },
    flush(done) {
      const rest = decipher.final();
      done(null, rest.length > 0 ? rest : undefined);
    },
  });
}

/** The 128-bit big-endian counter `iv + blocks`, wrapping at 2^128 as CTR mode does. */
function counterPlus(iv: Buffer, blocks: number): Buffer {
  const out = Buffer.from(iv);
  let carry = BigInt(blocks);
  for (let i = CHUNK_IV_BYTES - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(out[i]) + (carry & 0xffn);
    out[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return out;
}
