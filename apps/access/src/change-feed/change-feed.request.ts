import {
  CHANGE_FEED_CURSOR_NOW,
  CHANGE_FEED_DEFAULT_LIMIT,
  CHANGE_FEED_MAX_LIMIT,
  CHANGE_FEED_MAX_WAIT_SECONDS,
  CHANGE_FEED_PATH_PREFIX,
  isValidBucketName,
  parseChangeCursor,
} from '@cairn/protocol';
import { S3Error } from '../s3';

/** Seconds an SSE stream goes without a record before it sends a comment line, unless `wait` says otherwise. */
export const CHANGE_FEED_SSE_DEFAULT_HEARTBEAT_SECONDS = 15;
/** Records an SSE stream reads per batch unless `limit` says otherwise. */
export const CHANGE_FEED_SSE_DEFAULT_BATCH = 100;

/** Where to start: after a stream sequence, or after the last record there is now. */
export type ChangeFeedStart = { readonly after: number } | { readonly now: true };

/** What a change-feed request asks for, checked; pure (the gateway supplies path, query and headers). */
export interface ChangeFeedRequest {
  readonly bucket: string;
  readonly start: ChangeFeedStart;
  readonly limit: number;
  /** Long poll: longest wait for a first record. SSE: the heartbeat interval. */
  readonly waitMs: number;
  readonly sse: boolean;
}

export interface ChangeFeedRequestInput {
  readonly method: string;
  /** The percent-decoded path. */
  readonly path: string;
  readonly query: (name: string) => string | undefined;
  readonly header: (name: string) => string | undefined;
}

/** Whether a path is the change feed's (the gateway routes it before S3 routing). */
export function isChangeFeedPath(rawPath: string): boolean {
  return rawPath.startsWith(CHANGE_FEED_PATH_PREFIX);
}

function wholeNumber(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new S3Error('InvalidArgument', `${name} must be a whole number from ${min} to ${max}.`);
  }
  return Number(text);
}

/**
 * `GET /_cairn/changes/<bucket>?cursor=<c>&limit=<n>&wait=<seconds>`, JSON or, with
 * `Accept: text/event-stream`, SSE (where `Last-Event-ID` takes the place of `cursor`). Bad
 * input is S3's InvalidArgument (a bad bucket name InvalidBucketName, another method
 * MethodNotAllowed); never a server error.
 */
export function parseChangeFeedRequest(input: ChangeFeedRequestInput): ChangeFeedRequest {
  if (input.method !== 'GET') throw new S3Error('MethodNotAllowed', `${CHANGE_FEED_PATH_PREFIX}<bucket> takes GET only.`);
  const bucket = input.path.slice(CHANGE_FEED_PATH_PREFIX.length);
  if (!isValidBucketName(bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  const sse = /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(input.header('accept') ?? '');
  const lastEventId = sse ? input.header('last-event-id') : undefined;
  const cursorText = lastEventId !== undefined && lastEventId !== '' ? lastEventId : input.query('cursor');
  let start: ChangeFeedStart = { after: 0 };
  if (cursorText === CHANGE_FEED_CURSOR_NOW) start = { now: true };
  else if (cursorText !== undefined && cursorText !== '') {
    const after = parseChangeCursor(cursorText);
    if (after === undefined) throw new S3Error('InvalidArgument', `${lastEventId ? 'Last-Event-ID' : 'cursor'} is not a cursor of this feed.`);
    start = { after };
  }
  const limit = wholeNumber(input.query('limit'), 'limit', 1, CHANGE_FEED_MAX_LIMIT) ?? (sse ? CHANGE_FEED_SSE_DEFAULT_BATCH : CHANGE_FEED_DEFAULT_LIMIT);
  const waitSeconds = wholeNumber(input.query('wait'), 'wait', sse ? 1 : 0, CHANGE_FEED_MAX_WAIT_SECONDS) ?? (sse ? CHANGE_FEED_SSE_DEFAULT_HEARTBEAT_SECONDS : 0);
  return { bucket, start, limit, waitMs: waitSeconds * 1000, sse };
}
