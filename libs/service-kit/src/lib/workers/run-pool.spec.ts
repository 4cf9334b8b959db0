import { runPool } from './run-pool';

describe('runPool', () => {
  it('calls fn once per item, in order of taking, never more than the concurrency at once', async () => {
    const taken: number[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    await runPool([10, 11, 12, 13, 14, 15, 16], 3, undefined, async (item, index) => {
      taken.push(index);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      expect(item).toBe(10 + index);
      inFlight--;
    });
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(mostInFlight).toBe(3);
  });

  it('does nothing for no items and treats a concurrency below one as one', async () => {
    await runPool([], 4, undefined, async () => {
      throw new Error('not called');
    });
    const seen: number[] = [];
    await runPool([1, 2], 0, undefined, async (item) => {
      seen.push(item);
    });
    expect(seen).toEqual([1, 2]);
  });

  it('stops taking items once the signal is aborted and rejects with its reason', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = runPool([1, 2, 3, 4, 5], 1, controller.signal, async (item) => {
      seen.push(item);
      if (item === 2) controller.abort(new Error('cancelled'));
    });
    await expect(run).rejects.toThrow('cancelled');
    expect(seen).toEqual([1, 2]);
  });

  it('rejects with the first failure of fn', async () => {
    await expect(runPool([1, 2, 3], 2, undefined, async (item) => {
      if (item === 2) throw new Error('item 2 failed');
    })).rejects.toThrow('item 2 failed');
  });
});
