/**
 * GetObject / HeadObject with `?partNumber=N`, as S3 answers it. A multipart object (one whose part
 * sizes are known) serves the bytes of part N as a 206 with a Content-Range and names its part
 * count; a single-part object has one part, and part 1 is the whole object (200). A part number
 * beyond the object's parts is unsatisfiable (416 InvalidPartNumber).
 */
export type PartSelection =
  | { readonly kind: 'whole-object' }
  | {
      readonly kind: 'part';
      readonly start: number;
      readonly endInclusive: number;
      readonly lengthBytes: number;
      /** `bytes first-last/total`; null for an empty part (no byte to name, so a plain 200). */
      readonly contentRange: string | null;
      readonly partsCount: number;
    }
  | { readonly kind: 'unsatisfiable'; readonly partsCount: number };

export interface PartLayout {
  readonly sizeBytes: number;
  /** Each part's size in part order; null for a single-part object. */
  readonly partSizes: readonly number[] | null;
}

export function selectPart(object: PartLayout, partNumber: number): PartSelection {
  if (!Number.isInteger(partNumber) || partNumber < 1) throw new Error(`part number ${partNumber} is not a positive integer`);
  const { partSizes } = object;
  if (partSizes === null) return partNumber === 1 ? { kind: 'whole-object' } : { kind: 'unsatisfiable', partsCount: 1 };
  if (partNumber > partSizes.length) return { kind: 'unsatisfiable', partsCount: partSizes.length };
  const start = partSizes.slice(0, partNumber - 1).reduce((sum, size) => sum + size, 0);
  const lengthBytes = partSizes[partNumber - 1];
  const endInclusive = start + lengthBytes - 1;
  if (endInclusive >= object.sizeBytes) throw new Error(`part ${partNumber} ends past the ${object.sizeBytes}-byte object`);
  return {
    kind: 'part',
    start,
    endInclusive,
    lengthBytes,
    contentRange: lengthBytes === 0 ? null : `bytes ${start}-${endInclusive}/${object.sizeBytes}`,
    partsCount: partSizes.length,
  };
}
