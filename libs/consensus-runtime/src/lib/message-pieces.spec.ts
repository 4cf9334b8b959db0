import { parsePieceHeader, PieceAssembler, pieceHeaderOf, splitIntoPieces } from './message-pieces';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);
const assembler = (maxHeldBytes = 1_000_000) => new PieceAssembler({ staleAfterMs: 1_000, maxHeldBytes });

describe('message pieces', () => {
  it('splits into pieces of at most the given size and puts them back together in any order', () => {
    const data = bytes(10_000);
    const pieces = splitIntoPieces(data, 3_000);
    expect(pieces.map((p) => p.length)).toEqual([3_000, 3_000, 3_000, 1_000]);
    const a = assembler();
    const order = [2, 0, 3, 1];
    const results = order.map((index) => a.add('n1', { messageId: 'm.1', index, count: pieces.length }, pieces[index], 0));
    expect(results.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(results[3]).toEqual(data);
    expect(a.holding()).toEqual({ messages: 0, bytes: 0 });
  });

  it('keeps messages of different senders and ids apart, and ignores a repeated piece', () => {
    const a = assembler();
    const one = splitIntoPieces(bytes(20, 1), 10);
    const two = splitIntoPieces(bytes(20, 2), 10);
    expect(a.add('n1', { messageId: 'm', index: 0, count: 2 }, one[0], 0)).toBeUndefined();
    expect(a.add('n2', { messageId: 'm', index: 0, count: 2 }, two[0], 0)).toBeUndefined();
    expect(a.add('n1', { messageId: 'm', index: 0, count: 2 }, two[0], 0)).toBeUndefined();
    expect(a.add('n2', { messageId: 'm', index: 1, count: 2 }, two[1], 0)).toEqual(bytes(20, 2));
    expect(a.add('n1', { messageId: 'm', index: 1, count: 2 }, one[1], 0)).toEqual(bytes(20, 1));
  });

  it('copies each piece, since the transport may reuse the buffer it was read into', () => {
    const a = assembler();
    const buffer = bytes(10, 5);
    a.add('n1', { messageId: 'm', index: 0, count: 2 }, buffer, 0);
    const first = Uint8Array.from(buffer);
    buffer.fill(0);
    expect(a.add('n1', { messageId: 'm', index: 1, count: 2 }, bytes(3), 0)).toEqual(Uint8Array.from([...first, ...bytes(3)]));
  });

  it('drops a message whose pieces stop coming, and stays within its byte budget', () => {
    const a = assembler(25);
    a.add('n1', { messageId: 'stale', index: 0, count: 2 }, bytes(10), 0);
    a.add('n1', { messageId: 'fresh', index: 0, count: 3 }, bytes(10), 1_500);
    expect(a.holding()).toEqual({ messages: 1, bytes: 10 });
    a.add('n2', { messageId: 'other', index: 0, count: 4 }, bytes(10), 1_600);
    // A third piece held would pass the budget: the least recently touched message goes.
    a.add('n2', { messageId: 'other', index: 1, count: 4 }, bytes(10), 1_700);
    expect(a.holding()).toEqual({ messages: 1, bytes: 20 });
    // One message alone over the budget is dropped too; its later pieces start a new one.
    expect(a.add('n2', { messageId: 'other', index: 2, count: 4 }, bytes(10), 1_800)).toBeUndefined();
    expect(a.holding()).toEqual({ messages: 0, bytes: 0 });
    expect(a.add('n2', { messageId: 'other', index: 3, count: 4 }, bytes(10), 1_900)).toBeUndefined();
    expect(a.holding()).toEqual({ messages: 1, bytes: 10 });
  });

  it('starts again when a piece names a different count for the same message', () => {
    const a = assembler();
    a.add('n1', { messageId: 'm', index: 0, count: 3 }, bytes(10), 0);
    expect(a.add('n1', { messageId: 'm', index: 0, count: 2 }, bytes(10), 0)).toBeUndefined();
    expect(a.add('n1', { messageId: 'm', index: 1, count: 2 }, bytes(4), 0)).toEqual(Uint8Array.from([...bytes(10), ...bytes(4)]));
  });

  it('reads only the piece headers it writes', () => {
    expect(parsePieceHeader(pieceHeaderOf({ messageId: 'ab12.7', index: 3, count: 9 }))).toEqual({ messageId: 'ab12.7', index: 3, count: 9 });
    for (const bad of ['', 'm 0 1', 'm 2 2', 'm -1 3', 'm 0 100001', 'm  0 2', 'm 0 2 x', 'bad id 0 2', `${'x'.repeat(65)} 0 2`, 'm 0x1 2']) {
      expect(parsePieceHeader(bad)).toBeUndefined();
    }
  });
});
