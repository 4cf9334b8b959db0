import { gfDiv, gfInverse, gfMul, gfPow } from './galois-field';

/** A row-major matrix over GF(256). */
export type GfMatrix = readonly (readonly number[])[];

export function identity(size: number): number[][] {
  return Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, c) => (r === c ? 1 : 0)));
}

/** vandermonde[r][c] = r^c: any `columns` of its rows are linearly independent (rows <= 256). */
export function vandermonde(rows: number, columns: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => gfPow(r, c)));
}

export function multiply(a: GfMatrix, b: GfMatrix): number[][] {
  const inner = b.length;
  if (a.some((row) => row.length !== inner)) throw new RangeError('matrix sizes do not match');
  const columns = b[0]?.length ?? 0;
  return a.map((row) =>
    Array.from({ length: columns }, (_, c) => {
      let sum = 0;
      for (let i = 0; i < inner; i++) sum ^= gfMul(row[i], b[i][c]);
      return sum;
    }),
  );
}

/** The inverse by Gauss-Jordan elimination; throws on a singular matrix. */
export function invert(matrix: GfMatrix): number[][] {
  const size = matrix.length;
  if (matrix.some((row) => row.length !== size)) throw new RangeError('only a square matrix has an inverse');
  const work = matrix.map((row, r) => [...row, ...identity(size)[r]]);
  for (let col = 0; col < size; col++) {
    let pivot = col;
    while (pivot < size && work[pivot][col] === 0) pivot++;
    if (pivot === size) throw new RangeError('the matrix is singular');
    [work[col], work[pivot]] = [work[pivot], work[col]];
    const scale = gfInverse(work[col][col]);
    work[col] = work[col].map((v) => gfMul(v, scale));
    for (let r = 0; r < size; r++) {
      if (r === col || work[r][col] === 0) continue;
      const factor = work[r][col];
      work[r] = work[r].map((v, c) => v ^ gfMul(factor, work[col][c]));
    }
  }
  return work.map((row) => row.slice(size));
}

/**
 * The systematic coding matrix of a (k + m) code: a (k+m)×k Vandermonde matrix times the inverse
 * of its top k×k square, so the top k rows are the identity (data shards are the data itself) and
 * any k rows stay invertible (any k shards rebuild the rest).
 */
export function systematicCodingMatrix(dataShards: number, parityShards: number): number[][] {
  const v = vandermonde(dataShards + parityShards, dataShards);
  return multiply(v, invert(v.slice(0, dataShards)));
}

/** Used by tests: a·b⁻¹ for every pair, the field's division agrees with multiplication. */
export function divides(a: number, b: number): boolean {
  return gfMul(gfDiv(a, b), b) === a;
}
