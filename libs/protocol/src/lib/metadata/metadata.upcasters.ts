import type { Upcaster } from '../upcasting';
import type { ContentHeaders } from './common';

/*
 * The metadata events' upcasters, one step each, in the order of the versions they lift from
 * (MetadataEventSchemaVersions holds where each chain ends). See upcasting.ts for how to add one.
 */

type Data = Readonly<Record<string, unknown>>;

/**
 * Version 1 wrote content headers only when a write gave some (and nothing before they were
 * stored at all); version 2 always has them, none being `{}`.
 */
function withContentHeaders<D extends Data>(data: D): D & { readonly contentHeaders: ContentHeaders } {
  return { ...data, contentHeaders: (data['contentHeaders'] as ContentHeaders | undefined) ?? {} };
}

export const METADATA_UPCASTERS: readonly Upcaster[] = [
  { type: 'ObjectVersionPut', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  { type: 'ObjectVersionCopied', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  { type: 'MultipartUploadInitiated', fromVersion: 1, upcast: (data) => withContentHeaders(data as Data) },
  {
    type: 'MultipartUploadCompletionWithdrawn',
    fromVersion: 1,
    // It carries the upload as initiated, which a version 1 initiation may have written without them.
    upcast: (data) => ({ ...(data as Data), upload: withContentHeaders((data as Data)['upload'] as Data) }),
  },
];
