import fc from 'fast-check';
import { contentHashOf } from '@cairn/hashing';
import { gfDiv, gfInverse, gfMul, gfMulAddInto } from './galois-field';
import { identity, invert, multiply, systematicCodingMatrix } from './gf-matrix';
import { ReedSolomon, TooFewShardsError, reconstructVerified } from './reed-solomon';
import { chooseErasureCode, dataShardSlices, shardSizeFor, splitIntoDataShards } from './stripe-geometry';

const codes = fc.record({ dataShards: fc.integer({ min: 1, max: 10 }), parityShards: fc.integer({ min: 0, max: 4 }) });

/** A stripe of random data: the code, its data shards and all k+m shards. */
const stripes = codes.chain(({ dataShards, parityShards }) =>
  fc.tuple(fc.constant(new ReedSolomon(dataShards, parityShards)), fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 1 })).map(([code, [seed]]) => {
    const data = Array.from({ length: dataShards }, (_, i) => Uint8Array.from(seed, (b) => (b + i * 31) & 0xff));
    return { code, data, shards: [...data, ...code.encode(data)] };
  }),
);

/** Which shards a stripe loses: any subset of at most m indexes. */
function lossOf(total: number, parity: number) {
  return fc.shuffledSubarray(Array.from({ length: total }, (_, i) => i), { minLength: 0, maxLength: parity });
}

describe('GF(256)', () => {
  it('multiplication is commutative, associative and distributes over XOR; every non-zero element has an inverse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b, c) => {
        expect(gfMul(a, b)).toBe(gfMul(b, a));
        expect(gfMul(a, gfMul(b, c))).toBe(gfMul(gfMul(a, b), c));
        expect(gfMul(a, b ^ c)).toBe(gfMul(a, b) ^ gfMul(a, c));
        if (b !== 0) expect(gfMul(gfDiv(a, b), b)).toBe(a);
        if (a !== 0) expect(gfMul(a, gfInverse(a))).toBe(1);
      }),
    );
  });

  it('the multiply-add loop is the same as the scalar product byte by byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.integer({ min: 0, max: 255 }), (input, c) => {
        const out = new Uint8Array(input.length).fill(7);
        gfMulAddInto(out, input, c, input.length);
        expect([...out]).toEqual([...input].map((x) => 7 ^ gfMul(c, x)));
      }),
    );
  });
});

describe('coding matrix', () => {
  it('is systematic (identity on top) and any k of its rows are invertible', () => {
    fc.assert(
      fc.property(codes.chain((c) => fc.tuple(fc.constant(c), fc.shuffledSubarray(Array.from({ length: c.dataShards + c.parityShards }, (_, i) => i), { minLength: c.dataShards, maxLength: c.dataShards }))), ([{ dataShards, parityShards }, rows]) => {
        const matrix = systematicCodingMatrix(dataShards, parityShards);
        expect(matrix.slice(0, dataShards)).toEqual(identity(dataShards));
        const square = rows.map((r) => matrix[r]);
        expect(multiply(square, invert(square))).toEqual(identity(dataShards));
      }),
    );
  });
});

describe('ReedSolomon', () => {
  it('any k of the k+m shards rebuild every shard, data and parity', () => {
    fc.assert(
      fc.property(stripes.chain((s) => fc.tuple(fc.constant(s), lossOf(s.code.totalShards, s.code.parityShards))), ([{ code, shards }, lost]) => {
        const damaged = shards.map((s, i) => (lost.includes(i) ? null : s));
        const rebuilt = code.reconstruct(damaged);
        rebuilt.forEach((s, i) => expect(Buffer.from(s).equals(Buffer.from(shards[i]))).toBe(true));
        expect(code.reconstructData(damaged).map((s) => Buffer.from(s).toString('hex'))).toEqual(shards.slice(0, code.dataShards).map((s) => Buffer.from(s).toString('hex')));
        expect(code.verify(rebuilt)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a stripe with fewer than k shards left', () => {
    const code = new ReedSolomon(4, 2);
    const data = [1, 2, 3, 4].map((i) => new Uint8Array(8).fill(i));
    const shards: (Uint8Array | null)[] = [...data, ...code.encode(data)];
    shards[0] = shards[2] = shards[5] = null;
    expect(() => code.reconstruct(shards)).toThrow(TooFewShardsError);
  });

  it('a corrupt shard is detected by its hash and rebuilt from the others', () => {
    fc.assert(
      fc.property(
        stripes.filter((s) => s.code.parityShards > 0 && s.shards[0].length > 0).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.code.totalShards - 1 }), fc.nat())),
        ([{ code, shards }, victim, at]) => {
          const hashes = shards.map((s) => contentHashOf(s));
          const damaged = shards.map((s) => Uint8Array.from(s));
          damaged[victim][at % damaged[victim].length] ^= 0x5a;
          const result = reconstructVerified(code, damaged, hashes);
          expect(result.corrupt).toEqual([victim]);
          expect(result.rebuilt).toEqual([victim]);
          expect(result.shards.map((s) => contentHashOf(s))).toEqual(hashes);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splits a chunk into zero-padded data shards that join back, and maps a range onto the shards it touches', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 1, max: 8 }), fc.nat(), fc.nat(), (bytes, k, a, b) => {
        const shards = splitIntoDataShards(bytes, k);
        const size = shardSizeFor(bytes.length, k);
        expect(shards.every((s) => s.length === size)).toBe(true);
        const joined = Buffer.concat(shards.map((s) => Buffer.from(s)));
        expect(joined.subarray(0, bytes.length).equals(Buffer.from(bytes))).toBe(true);
        expect(joined.subarray(bytes.length).every((x) => x === 0)).toBe(true);
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = bytes.length === 0 ? 0 : start + (b % (bytes.length - start + 1));
        const read = Buffer.concat(dataShardSlices(start, end, size).map(({ shard, from, to }) => Buffer.from(shards[shard].subarray(from, to))));
        expect(read.equals(Buffer.from(bytes.subarray(start, end)))).toBe(true);
      }),
    );
  });

  it('chooses 2+1 on three nodes, 4+2 on six or more, and nothing below three', () => {
    expect(chooseErasureCode(2)).toBeNull();
    expect(chooseErasureCode(3)).toEqual({ dataShards: 2, parityShards: 1 });
    expect(chooseErasureCode(4)).toEqual({ dataShards: 3, parityShards: 1 });
    expect(chooseErasureCode(5)).toEqual({ dataShards: 3, parityShards: 2 });
    expect(chooseErasureCode(6)).toEqual({ dataShards: 4, parityShards: 2 });
    expect(chooseErasureCode(12)).toEqual({ dataShards: 4, parityShards: 2 });
    expect(chooseErasureCode(12, { dataShards: 8, parityShards: 3 })).toEqual({ dataShards: 8, parityShards: 3 });
  });

  it('codes known stripes as the reference implementation does (the Rust reed-solomon-erasure crate: 0x11d, systematic Vandermonde)', () => {
    // Parity computed by @subspace/reed-solomon-erasure.wasm for the same data shards.
    expect(new ReedSolomon(4, 2).encode([Uint8Array.of(0, 1), Uint8Array.of(4, 5), Uint8Array.of(2, 3), Uint8Array.of(6, 7)]).map((p) => [...p])).toEqual([
      [44, 45],
      [40, 41],
    ]);
    expect(new ReedSolomon(2, 1).encode([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)]).map((p) => [...p])).toEqual([[11, 12, 9]]);
  });
});
