import { bucketToken, subjectsFor, type StreamKind } from '../subjects';

/** The stream kind of the change feed: `<ns>_CHANGES`, capturing `<ns>.changes.>`. */
export const CHANGES_STREAM_KIND = 'CHANGES' satisfies StreamKind;

/** Where a region's change records are published: one subject per bucket. */
export function changeFeedSubjects(namespace: string) {
  const s = subjectsFor(namespace);
  return {
    stream: s.streamName(CHANGES_STREAM_KIND),
    /** `changes.<bucketToken>`: every change of one bucket (dots in the name become `_`). */
    bucket: (bucket: string) => s.prefix(`changes.${bucketToken(bucket)}`),
    /** Every bucket's changes. */
    all: () => s.prefix('changes.>'),
  };
}

/** The HTTP feed on the S3 endpoint: `GET /_cairn/changes/<bucket>`. No bucket can be named `_cairn`. */
export const CHANGE_FEED_PATH_PREFIX = '/_cairn/changes/';
/** Records one long-poll answer holds at most, and by default. */
export const CHANGE_FEED_MAX_LIMIT = 1_000;
export const CHANGE_FEED_DEFAULT_LIMIT = 100;
/** Longest a long poll waits for a first record. */
export const CHANGE_FEED_MAX_WAIT_SECONDS = 60;
/** `cursor=now`: start after the last record there is (only what happens from now on). */
export const CHANGE_FEED_CURSOR_NOW = 'now';
/** The largest cursor taken: JetStream sequences are 64-bit, JavaScript's safe integers 53. */
const MAX_CURSOR = Number.MAX_SAFE_INTEGER;

/**
 * A cursor as users pass it: the decimal stream sequence of the last record they have (0, or no
 * cursor, for the beginning). Undefined when it is not one.
 */
export function parseChangeCursor(text: string): number | undefined {
  if (!/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_CURSOR ? value : undefined;
}

export function formatChangeCursor(sequence: number): string {
  return String(sequence);
}
