/**
 * The Range header of GetObject as S3 reads it: one `bytes=` range (first-last, first-, or -suffix).
 * A header that does not parse, names another unit, or asks for several ranges is ignored and the
 * whole object is served (S3 does not serve multipart/byteranges). A syntactically valid range
 * that selects no byte of the object is unsatisfiable (416 InvalidRange).
 */
export type RangeSelection =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly endInclusive: number; readonly lengthBytes: number; readonly contentRange: string }
  | { readonly kind: 'unsatisfiable'; readonly contentRange: string };

const RANGE_PATTERN = /^bytes=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$/i;

export function selectRange(header: string | undefined, objectSizeBytes: number): RangeSelection {
  if (header === undefined) return { kind: 'full' };
  const match = RANGE_PATTERN.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, firstText, lastText] = match;
  const unsatisfiable = { kind: 'unsatisfiable', contentRange: `bytes */${objectSizeBytes}` } as const;

  if (firstText === '') {
    if (lastText === '') return { kind: 'full' };
    const suffixBytes = Number(lastText);
    if (suffixBytes === 0 || objectSizeBytes === 0) return unsatisfiable;
    return partial(Math.max(0, objectSizeBytes - suffixBytes), objectSizeBytes - 1, objectSizeBytes);
  }

  const first = Number(firstText);
  const last = lastText === '' ? undefined : Number(lastText);
  if (last !== undefined && last < first) return { kind: 'full' };
  if (first >= objectSizeBytes) return unsatisfiable;
  return partial(first, Math.min(last ?? objectSizeBytes - 1, objectSizeBytes - 1), objectSizeBytes);
}

function partial(start: number, endInclusive: number, sizeBytes: number): RangeSelection {
  return { kind: 'partial', start, endInclusive, lengthBytes: endInclusive - start + 1, contentRange: `bytes ${start}-${endInclusive}/${sizeBytes}` };
}
