import { MemoryBudget } from './memory-budget';

describe('MemoryBudget', () => {
  it('grants within the budget, makes the rest wait in order, and grants them as bytes come back', async () => {
    const budget = new MemoryBudget(100);
    const first = await budget.acquire(60);
    const granted: string[] = [];
    const second = budget.acquire(50).then((release) => (granted.push('second'), release));
    const third = budget.acquire(10).then((release) => (granted.push('third'), release));
    await new Promise((r) => setImmediate(r));
    // The third would fit, but FIFO keeps a large request from starving behind small ones.
    expect(granted).toEqual([]);
    expect(budget.waiting).toBe(2);
    first();
    first();
    const releases = await Promise.all([second, third]);
    expect(granted).toEqual(['second', 'third']);
    expect(budget.inUseBytes).toBe(60);
    releases.forEach((release) => release());
    expect(budget.inUseBytes).toBe(0);
  });

  it('refuses a request larger than the whole budget instead of waiting forever', async () => {
    await expect(new MemoryBudget(10).acquire(11)).rejects.toThrow(RangeError);
  });
});
