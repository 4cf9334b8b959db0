/**
 * HTTP preconditions (RFC 7232 §6) as S3 applies them. Pure: the clock comes in as an argument.
 *
 * Order of evaluation, which gives S3's documented precedence:
 *  1. If-Match (strong comparison); only when absent, If-Unmodified-Since. False → 412.
 *     So If-Match true + If-Unmodified-Since false proceeds.
 *  2. If-None-Match (weak comparison); only when absent, If-Modified-Since. False → 304 for GET
 *     and HEAD. So If-None-Match false + If-Modified-Since true is 304.
 * Dates that do not parse, or If-Modified-Since dates in the future, are ignored (RFC 7232 §3.3).
 */

export interface ObjectValidators {
  /** Without quotes. */
  readonly etag: string;
  readonly lastModified: Date;
}

export interface Preconditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly ifUnmodifiedSince?: string;
}

export type ReadConditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

const MS_PER_SECOND = 1000;

/** The entity tags of an If-Match / If-None-Match list, unquoted; '*' stays '*'. */
export function parseEntityTagList(header: string): readonly { readonly tag: string; readonly weak: boolean }[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const weak = part.startsWith('W/');
      const raw = weak ? part.slice(2) : part;
      const tag = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      return { tag, weak };
    });
}

function matchesAny(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  return parseEntityTagList(header).some((entry) => entry.tag === '*' || (entry.tag === etag && (comparison === 'weak' || !entry.weak)));
}

/** HTTP dates have one-second resolution, so Last-Modified is compared truncated to the second. */
function seconds(ms: number): number {
  return Math.floor(ms / MS_PER_SECOND);
}

function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

/** Preconditions of GET and HEAD on an existing object. */
export function evaluateReadPreconditions(conditions: Preconditions, object: ObjectValidators, nowMs: number): ReadConditionOutcome {
  const modifiedSec = seconds(object.lastModified.getTime());

  if (conditions.ifMatch !== undefined) {
    if (!matchesAny(conditions.ifMatch, object.etag, 'strong')) return 'precondition-failed';
  } else {
    const unmodifiedSince = parseHttpDate(conditions.ifUnmodifiedSince);
    if (unmodifiedSince !== undefined && modifiedSec > seconds(unmodifiedSince)) return 'precondition-failed';
  }

  if (conditions.ifNoneMatch !== undefined) {
    if (matchesAny(conditions.ifNoneMatch, object.etag, 'weak')) return 'not-modified';
  } else {
    const modifiedSince = parseHttpDate(conditions.ifModifiedSince);
    if (modifiedSince !== undefined && modifiedSince <= nowMs && modifiedSec <= seconds(modifiedSince)) return 'not-modified';
  }
  return 'proceed';
}

/**
 * `x-amz-copy-source-if-*` on CopyObject / UploadPartCopy: the same rules against the source
 * object, but every failure is 412 (a copy never answers 304).
 */
export function evaluateCopySourcePreconditions(conditions: Preconditions, source: ObjectValidators, nowMs: number): 'proceed' | 'precondition-failed' {
  return evaluateReadPreconditions(conditions, source, nowMs) === 'proceed' ? 'proceed' : 'precondition-failed';
}

export type WriteConditionOutcome = 'proceed' | 'precondition-failed' | 'no-such-key' | 'not-implemented';

/**
 * Conditional writes (PutObject, CopyObject destination, CompleteMultipartUpload): S3 supports
 * `If-None-Match: *` (create only if absent) and `If-Match: <etag>` (replace only that version).
 * `current` is the version the write would replace. The decision must be taken atomically with the
 * commit (metadata's optimistic concurrency); this function is the rule it applies.
 */
export function evaluateWritePreconditions(conditions: Preconditions, current: ObjectValidators | undefined): WriteConditionOutcome {
  if (conditions.ifNoneMatch !== undefined) {
    if (conditions.ifNoneMatch.trim() !== '*') return 'not-implemented';
    if (current !== undefined) return 'precondition-failed';
  }
  if (conditions.ifMatch !== undefined) {
    if (current === undefined) return 'no-such-key';
    if (!matchesAny(conditions.ifMatch, current.etag, 'strong')) return 'precondition-failed';
  }
  return 'proceed';
}
