import type { MetadataErrorCode } from '@cairn/protocol';
import type { MetadataError } from '@cairn/key-reads';

/** Shared with the gateway's direct reads (@cairn/key-reads). */
export { MetadataError } from '@cairn/key-reads';

/** For `thenThrows(MetadataError, hasCode('NoSuchKey'))` in decider specs. */
export function hasCode(code: MetadataErrorCode): (error: MetadataError) => boolean {
  return (error) => error.code === code;
}
