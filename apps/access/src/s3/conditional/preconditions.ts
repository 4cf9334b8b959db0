import {
  evaluateCopySourcePreconditions,
  evaluateReadPreconditions,
  evaluateWritePreconditions,
  type ObjectValidators,
  type Preconditions,
} from '../../domain/conditional-request';
import { selectRange, type RangeSelection } from '../../domain/byte-range';
import type { HeaderBag } from '../auth/canonical-request';
import { S3Error } from '../errors/s3.errors';

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : typeof value === 'string' ? value : value.join(', ');
}

export function readPreconditionsFrom(headers: HeaderBag): Preconditions {
  return {
    ifMatch: header(headers, 'if-match'),
    ifNoneMatch: header(headers, 'if-none-match'),
    ifModifiedSince: header(headers, 'if-modified-since'),
    ifUnmodifiedSince: header(headers, 'if-unmodified-since'),
  };
}

export function copySourcePreconditionsFrom(headers: HeaderBag): Preconditions {
  return {
    ifMatch: header(headers, 'x-amz-copy-source-if-match'),
    ifNoneMatch: header(headers, 'x-amz-copy-source-if-none-match'),
    ifModifiedSince: header(headers, 'x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: header(headers, 'x-amz-copy-source-if-unmodified-since'),
  };
}

/** GET/HEAD: throws NotModified (304) or PreconditionFailed (412) when the preconditions say so. */
export function assertReadPreconditions(headers: HeaderBag, object: ObjectValidators, nowMs: number): void {
  const outcome = evaluateReadPreconditions(readPreconditionsFrom(headers), object, nowMs);
  if (outcome === 'not-modified') throw new S3Error('NotModified');
  if (outcome === 'precondition-failed') throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
}

export function assertCopySourcePreconditions(headers: HeaderBag, source: ObjectValidators, nowMs: number): void {
  if (evaluateCopySourcePreconditions(copySourcePreconditionsFrom(headers), source, nowMs) === 'precondition-failed') {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-Match' });
  }
}

/** Conditional writes: `If-None-Match: *` and `If-Match: <etag>` against the version being replaced. */
export function assertWritePreconditions(headers: HeaderBag, current: ObjectValidators | undefined): void {
  const conditions = readPreconditionsFrom(headers);
  switch (evaluateWritePreconditions(conditions, current)) {
    case 'proceed':
      return;
    case 'precondition-failed':
      throw new S3Error('PreconditionFailed', undefined, { Condition: conditions.ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Match' });
    case 'no-such-key':
      throw new S3Error('NoSuchKey');
    case 'not-implemented':
      throw new S3Error('NotImplemented', 'If-None-Match on writes supports only "*".', { Header: 'If-None-Match' });
  }
}

/** The bytes to serve for a Range header; InvalidRange (416) when nothing is satisfiable. */
export function resolveRange(headers: HeaderBag, objectSizeBytes: number): Exclude<RangeSelection, { readonly kind: 'unsatisfiable' }> {
  const rangeHeader = header(headers, 'range');
  const selection = selectRange(rangeHeader, objectSizeBytes);
  if (selection.kind === 'unsatisfiable') {
    throw new S3Error('InvalidRange', undefined, { RangeRequested: rangeHeader ?? '', ActualObjectSize: String(objectSizeBytes) });
  }
  return selection;
}
