import type { StoredEvent } from '@cairn/eventing';

/** The life of a bucket that does not exist (never created, or deleted). Real lives are stream sequences, so at least 1. */
export const NO_INCARNATION = 0;

/**
 * The bucket's current life (its incarnation): the stream sequence of its latest BucketCreated, or
 * NO_INCARNATION once deleted. A name deleted and created again gets a larger one, so object-key
 * and upload events can say which life they were written in (BucketLife in @cairn/protocol). The
 * projection holds the same number as the bucket row's created_sequence.
 */
export function bucketIncarnation(history: readonly StoredEvent[]): number {
  let incarnation = NO_INCARNATION;
  for (const stored of history) {
    if (stored.envelope.type === 'BucketCreated') incarnation = stored.sequence;
    else if (stored.envelope.type === 'BucketDeleted') incarnation = NO_INCARNATION;
  }
  return incarnation;
}
