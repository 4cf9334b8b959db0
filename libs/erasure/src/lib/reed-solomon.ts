import { contentHashOf } from '@cairn/hashing';
import { gfMulAddInto, gfMulInto } from './galois-field';
import { invert, systematicCodingMatrix } from './gf-matrix';

/** The widest stripe this code takes (the field allows 256; placement never needs near that many). */
export const MAX_TOTAL_SHARDS = 64;
/** Decode matrices kept per code (one per set of shards present). */
export const DECODE_MATRIX_CACHE_MAX = 256;

/** Fewer than k shards of a stripe are present (or intact): the stripe cannot be rebuilt. */
export class TooFewShardsError extends Error {
  readonly code = 'TOO_FEW_SHARDS';
  constructor(
    readonly present: number,
    readonly needed: number,
  ) {
    super(`${present} of the stripe's shards are intact; ${needed} are needed to rebuild it`);
  }
}

/**
 * A systematic Reed-Solomon erasure code over GF(256) with k data and m parity shards: the data
 * shards are the data itself, the parity shards are linear combinations of them, and any k of the
 * k+m shards rebuild every other. Pure: bytes in, bytes out; shards of one stripe are all the same
 * length.
 */
export class ReedSolomon {
  readonly totalShards: number;
  /** The m parity rows of the coding matrix. */
  private readonly parityRows: readonly (readonly number[])[];
  private readonly coding: readonly (readonly number[])[];
  private readonly decodeCache = new Map<string, readonly (readonly number[])[]>();

  constructor(
    readonly dataShards: number,
    readonly parityShards: number,
  ) {
    if (!Number.isInteger(dataShards) || dataShards < 1) throw new RangeError(`data shards ${dataShards} must be a positive integer`);
    if (!Number.isInteger(parityShards) || parityShards < 0) throw new RangeError(`parity shards ${parityShards} must be a non-negative integer`);
    if (dataShards + parityShards > MAX_TOTAL_SHARDS) throw new RangeError(`at most ${MAX_TOTAL_SHARDS} shards in a stripe`);
    this.totalShards = dataShards + parityShards;
    this.coding = systematicCodingMatrix(dataShards, parityShards);
    this.parityRows = this.coding.slice(dataShards);
  }

  /** The m parity shards of k equal-length data shards. */
  encode(data: readonly Uint8Array[]): Uint8Array[] {
    const length = this.checkShards(data, this.dataShards);
    return this.parityRows.map((row) => combine(row, data, length));
  }

  /**
   * The stripe with every missing shard (null) rebuilt from any k present ones; present shards are
   * returned as they are. Throws TooFewShardsError when fewer than k are present.
   */
  reconstruct(shards: readonly (Uint8Array | null)[]): Uint8Array[] {
    if (shards.length !== this.totalShards) throw new RangeError(`a stripe has ${this.totalShards} shards, not ${shards.length}`);
    const presentIndexes = shards.flatMap((s, i) => (s ? [i] : []));
    if (presentIndexes.length === this.totalShards) return shards as Uint8Array[];
    if (presentIndexes.length < this.dataShards) throw new TooFewShardsError(presentIndexes.length, this.dataShards);
    const used = presentIndexes.slice(0, this.dataShards);
    const inputs = used.map((i) => shards[i] as Uint8Array);
    const length = this.checkShards(inputs, this.dataShards);
    const decode = this.decodeMatrix(used);
    const data: Uint8Array[] = [];
    for (let d = 0; d < this.dataShards; d++) data.push(shards[d] ?? combine(decode[d], inputs, length));
    return shards.map((s, i) => s ?? (i < this.dataShards ? data[i] : combine(this.coding[i], data, length)));
  }

  /** Only the data shards, rebuilding those missing (a read needs no parity). */
  reconstructData(shards: readonly (Uint8Array | null)[]): Uint8Array[] {
    if (shards.slice(0, this.dataShards).every((s) => s !== null)) return shards.slice(0, this.dataShards) as Uint8Array[];
    return this.reconstruct(shards).slice(0, this.dataShards);
  }

  /** Whether the parity shards agree with the data shards. */
  verify(shards: readonly Uint8Array[]): boolean {
    const length = this.checkShards(shards, this.totalShards);
    const parity = this.encode(shards.slice(0, this.dataShards));
    return parity.every((p, i) => equalBytes(p, shards[this.dataShards + i], length));
  }

  /** The inverse of the coding matrix's rows of the shards used: data = inverse · used shards. */
  private decodeMatrix(used: readonly number[]): readonly (readonly number[])[] {
    const key = used.join(',');
    let matrix = this.decodeCache.get(key);
    if (!matrix) {
      matrix = invert(used.map((i) => this.coding[i]));
      if (this.decodeCache.size >= DECODE_MATRIX_CACHE_MAX) this.decodeCache.delete(this.decodeCache.keys().next().value as string);
      this.decodeCache.set(key, matrix);
    }
    return matrix;
  }

  private checkShards(shards: readonly Uint8Array[], count: number): number {
    if (shards.length !== count) throw new RangeError(`expected ${count} shards, got ${shards.length}`);
    const length = shards[0]?.length ?? 0;
    if (shards.some((s) => s.length !== length)) throw new RangeError('the shards of a stripe must all be the same length');
    return length;
  }
}

/**
 * A stripe's shards checked against their SHA-256 names: a shard whose bytes do not match is
 * treated as missing (corrupt), then every missing one is rebuilt from k intact ones and checked
 * against its name too. Returns the whole stripe and which shards were rebuilt.
 */
export function reconstructVerified(
  code: ReedSolomon,
  shards: readonly (Uint8Array | null)[],
  hashes: readonly string[],
): { readonly shards: Uint8Array[]; readonly rebuilt: readonly number[]; readonly corrupt: readonly number[] } {
  if (hashes.length !== code.totalShards) throw new RangeError(`a stripe has ${code.totalShards} shard hashes, not ${hashes.length}`);
  const corrupt: number[] = [];
  const intact = shards.map((s, i) => {
    if (s === null) return null;
    if (contentHashOf(s) === hashes[i]) return s;
    corrupt.push(i);
    return null;
  });
  const rebuilt = intact.flatMap((s, i) => (s === null ? [i] : []));
  const whole = code.reconstruct(intact);
  for (const i of rebuilt) {
    const actual = contentHashOf(whole[i]);
    if (actual !== hashes[i]) throw new Error(`shard ${i} rebuilt as ${actual}, not ${hashes[i]}: the stripe's shards disagree`);
  }
  return { shards: whole, rebuilt, corrupt };
}

function combine(row: readonly number[], inputs: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let first = true;
  for (let j = 0; j < inputs.length; j++) {
    const c = row[j];
    if (c === 0) continue;
    if (first) gfMulInto(out, inputs[j], c, length);
    else gfMulAddInto(out, inputs[j], c, length);
    first = false;
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}
