/** A chunk header line (`<hex size>;chunk-signature=<64 hex>`) or trailer line is never longer. */
export const MAX_CHUNK_LINE_BYTES = 4 * 1024;
/** The largest chunk we accept; SDKs send 64 KiB to 1 MiB. */
export const MAX_CHUNK_SIZE_BYTES = 16 * 1024 * 1024;
/** Trailing headers after the final chunk, including the trailer signature. */
export const MAX_TRAILER_LINES = 16;
export const MAX_CHUNK_SIZE_HEX_DIGITS = 8;

export const CHUNK_STRING_TO_SIGN_ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD';
export const TRAILER_STRING_TO_SIGN_ALGORITHM = 'AWS4-HMAC-SHA256-TRAILER';
export const TRAILER_SIGNATURE_HEADER = 'x-amz-trailer-signature';
