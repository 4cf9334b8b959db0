import { BytePacer } from './byte-pacer';

describe('BytePacer', () => {
  it('gives each take the next slot and resolves at its start: the first at once, the next one slot later', async () => {
    let now = 0;
    const pacer = new BytePacer(1_000, () => now);
    const started: number[] = [];
    jest.useFakeTimers();
    try {
      const a = pacer.take(100).then(() => started.push(now));
      const b = pacer.take(100).then(() => started.push(now));
      await Promise.resolve();
      now = 100;
      jest.advanceTimersByTime(100);
      await Promise.all([a, b]);
      expect(started).toEqual([0, 100]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('saves no burst while idle', async () => {
    let now = 0;
    const pacer = new BytePacer(1_000, () => now);
    await pacer.take(100);
    now = 10_000;
    await pacer.take(100);
    jest.useFakeTimers();
    try {
      let done = false;
      const next = pacer.take(100).then(() => (done = true));
      await Promise.resolve();
      expect(done).toBe(false);
      now = 10_100;
      jest.advanceTimersByTime(100);
      await next;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
