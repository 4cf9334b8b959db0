import { ReadBufferPool } from './read-buffer-pool';

describe('ReadBufferPool', () => {
  it('lends at most maxLeases at once and lends again once one ends', () => {
    const pool = new ReadBufferPool(1024, 2);
    const a = pool.tryLease(1000);
    const b = pool.tryLease(10);
    expect(a && b).toBeTruthy();
    expect(pool.tryLease(10)).toBeNull();
    a?.giveBack();
    a?.giveBack(); // a second end changes nothing
    expect(pool.leasedCount).toBe(1);
    expect(pool.tryLease(10)).not.toBeNull();
  });

  it('reuses a buffer given back, never one dropped (its bytes may still be referenced)', () => {
    const pool = new ReadBufferPool(1024, 2);
    const given = pool.tryLease(100)!;
    given.giveBack();
    expect(pool.tryLease(100)!.bytes).toBe(given.bytes);
    const dropped = pool.tryLease(100)!;
    dropped.drop();
    expect(pool.pooledCount).toBe(0);
    expect(pool.leasedCount).toBe(1);
  });

  it('gives a request larger than its buffers a buffer of its own, not kept after', () => {
    const pool = new ReadBufferPool(1024, 2);
    const big = pool.tryLease(5000)!;
    expect(big.bytes.length).toBeGreaterThanOrEqual(5000);
    big.giveBack();
    expect(pool.pooledCount).toBe(0);
    expect(pool.leasedCount).toBe(0);
  });
});
