import { checkKeyValueHistory, checkRegisterHistory, type KeyValueOperation, type RegisterOperation } from './linearizability-checker';

let nextId = 0;
const w = (value: string, invokedAt: number, returnedAt: number): RegisterOperation => ({ id: nextId++, kind: 'write', value, invokedAt, returnedAt });
const r = (value: string | null, invokedAt: number, returnedAt: number): RegisterOperation => ({ id: nextId++, kind: 'read', value, invokedAt, returnedAt });

describe('linearizability checker (register)', () => {
  it('accepts a sequential history', () => {
    expect(checkRegisterHistory([r(null, 0, 1), w('a', 2, 3), r('a', 4, 5), w('b', 6, 7), r('b', 8, 9)]).ok).toBe(true);
  });

  it('accepts concurrent operations in either order', () => {
    // The read overlaps the write, so it may see the old or the new value.
    expect(checkRegisterHistory([w('a', 0, 10), r(null, 1, 2), r('a', 3, 4)]).ok).toBe(true);
    expect(checkRegisterHistory([w('a', 0, 10), w('b', 0, 10), r('b', 11, 12), r('b', 13, 14)]).ok).toBe(true);
  });

  it('rejects a stale read after a completed write', () => {
    expect(checkRegisterHistory([w('a', 0, 1), r(null, 2, 3)]).ok).toBe(false);
  });

  it('rejects reads that observe two concurrent writes in both orders', () => {
    const history = [w('a', 0, 10), w('b', 0, 10), r('a', 11, 12), r('b', 13, 14), r('a', 15, 16)];
    expect(checkRegisterHistory(history).ok).toBe(false);
  });

  it('rejects a read of a value nobody wrote', () => {
    expect(checkRegisterHistory([w('a', 0, 1), r('z', 2, 3)]).ok).toBe(false);
  });

  it('lets an unfinished write take effect late, or never', () => {
    expect(checkRegisterHistory([w('a', 0, 1), w('b', 2, Infinity), r('a', 3, 4), r('b', 5, 6)]).ok).toBe(true);
    expect(checkRegisterHistory([w('a', 0, 1), w('b', 2, Infinity), r('a', 3, 4), r('a', 5, 6)]).ok).toBe(true);
    // ...but not before it was invoked.
    expect(checkRegisterHistory([w('a', 0, 1), r('b', 2, 3), w('b', 4, Infinity)]).ok).toBe(false);
  });

  it('handles a long concurrent history without blowing up', () => {
    const ops: RegisterOperation[] = [];
    for (let i = 0; i < 60; i++) ops.push(w(`v${i}`, i * 2, i * 2 + 5));
    for (let i = 0; i < 60; i++) ops.push(r(`v${i}`, i * 2 + 6, i * 2 + 6));
    expect(checkRegisterHistory(ops).ok).toBe(true);
    // v0 finished long before v59 began: it cannot be the register's value at the end.
    expect(checkRegisterHistory(ops.concat([r('v0', 500, 501)])).ok).toBe(false);
  });
});

describe('linearizability checker (key-value client history)', () => {
  const op = (o: Partial<KeyValueOperation> & Pick<KeyValueOperation, 'id' | 'kind' | 'key' | 'value' | 'invokedAt'>): KeyValueOperation => ({
    returnedAt: undefined,
    discarded: false,
    ...o,
  });

  it('checks each key on its own and accepts a write whose outcome is unknown', () => {
    const history = [
      op({ id: 1, kind: 'write', key: 'x', value: 'a', invokedAt: 0, returnedAt: 1 }),
      op({ id: 2, kind: 'write', key: 'y', value: 'b', invokedAt: 0, returnedAt: Infinity }),
      op({ id: 3, kind: 'read', key: 'x', value: 'a', invokedAt: 2, returnedAt: 3 }),
      op({ id: 4, kind: 'read', key: 'y', value: 'b', invokedAt: 4, returnedAt: 5 }),
    ];
    expect(checkKeyValueHistory(history, ['x', 'y'])).toBeUndefined();
  });

  it('holds a discarded write to never having taken effect', () => {
    const history = [
      op({ id: 1, kind: 'write', key: 'x', value: 'a', invokedAt: 0, returnedAt: Infinity, discarded: true }),
      op({ id: 2, kind: 'read', key: 'x', value: 'a', invokedAt: 2, returnedAt: 3 }),
    ];
    expect(checkKeyValueHistory(history, ['x'])).toMatch(/^history of key x is not linearizable/);
  });

  it('leaves out reads that never returned', () => {
    const history = [
      op({ id: 1, kind: 'write', key: 'x', value: 'a', invokedAt: 0, returnedAt: 1 }),
      op({ id: 2, kind: 'read', key: 'x', value: null, invokedAt: 2 }),
    ];
    expect(checkKeyValueHistory(history, ['x'])).toBeUndefined();
  });
});
