import { contentHashOf } from '@cairn/hashing';
import { shardProblem } from './shard-check';

describe('shardProblem', () => {
  const shard = Buffer.from('0123456789abcdef');
  const named = { hash: contentHashOf(shard), shardSizeBytes: shard.length };
  const flipped = Buffer.from(shard);
  flipped[3] ^= 0xff;

  it.each([
    ['the whole shard, intact', shard, 0, 16, null],
    ['a piece of it (no hash to check a piece against)', shard.subarray(4, 10), 4, 10, null],
    ['a piece with a flipped byte still passes: only its length can be checked', flipped.subarray(2, 6), 2, 6, null],
    ['the whole shard with a flipped byte', flipped, 0, 16, 'hash mismatch'],
    ['a whole shard cut short', shard.subarray(0, 15), 0, 16, 'got 15 of 16 bytes'],
    ['a piece longer than asked', shard.subarray(0, 8), 2, 6, 'got 8 of 4 bytes'],
    ['nothing where a whole shard was asked for', Buffer.alloc(0), 0, 16, 'got 0 of 16 bytes'],
  ])('%s', (_what, bytes, from, to, expected) => {
    expect(shardProblem(bytes, named, from, to)).toBe(expected);
  });
});
