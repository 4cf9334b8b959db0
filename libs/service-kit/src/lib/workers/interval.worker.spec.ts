import { abortable, IntervalWorker } from './interval.worker';

const INTERVAL_MS = 100;
const quiet = { log: jest.fn(), warn: jest.fn() };

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('IntervalWorker', () => {
  beforeEach(() => {
    jest.useFakeTimers();
    quiet.log.mockClear();
    quiet.warn.mockClear();
  });
  afterEach(() => jest.useRealTimers());

  it('runs every interval once started, and is idle between runs', async () => {
    const tick = jest.fn(async () => undefined);
    const worker = new IntervalWorker('w', INTERVAL_MS, tick, { logger: quiet });
    expect(worker.status()).toEqual({ name: 'w', state: 'idle', runs: 0 });
    worker.start();
    expect(tick).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(tick).toHaveBeenCalledTimes(3);
    expect(worker.status()).toMatchObject({ state: 'idle', runs: 3, lastRunAt: expect.any(String) });
    await worker.stop();
  });

  it('runs at once with runImmediately', async () => {
    const tick = jest.fn(async () => undefined);
    const worker = new IntervalWorker('w', INTERVAL_MS, tick, { logger: quiet, runImmediately: true });
    worker.start();
    expect(tick).toHaveBeenCalledTimes(1);
    await worker.stop();
  });

  it('never runs two ticks at once: an interval that comes while a tick runs is skipped', async () => {
    let running = 0;
    let most = 0;
    const release = deferred();
    const tick = jest.fn(async () => {
      running += 1;
      most = Math.max(most, running);
      await release.promise;
      running -= 1;
    });
    const worker = new IntervalWorker('w', INTERVAL_MS, tick, { logger: quiet });
    worker.start();
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(tick).toHaveBeenCalledTimes(1);
    expect(worker.status().state).toBe('running');
    release.resolve();
    await jest.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(most).toBe(1);
    expect(tick).toHaveBeenCalledTimes(3);
    await worker.stop();
  });

  it('records a failing tick, logs it once, goes on, and is idle again after the next success', async () => {
    let fail = true;
    const worker = new IntervalWorker(
      'w',
      INTERVAL_MS,
      async () => {
        if (fail) throw new Error('postgres away');
        return { doneItems: 3, totalItems: 10 };
      },
      { logger: quiet },
    );
    worker.start();
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(worker.status()).toMatchObject({ state: 'failed', runs: 3, lastError: 'postgres away', lastErrorAt: expect.any(String) });
    expect(quiet.warn).toHaveBeenCalledTimes(1);
    expect(quiet.warn.mock.calls[0][0]).toContain('postgres away');

    fail = false;
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(worker.status()).toMatchObject({ state: 'idle', runs: 4, lastError: 'postgres away', progress: { doneItems: 3, totalItems: 10 } });
    expect(quiet.log).toHaveBeenCalledWith('w recovered');
    await worker.stop();
  });

  it('stop() aborts and waits for the tick in flight, then runs no more', async () => {
    let finished = false;
    let aborted = false;
    const tick = jest.fn(
      (signal: AbortSignal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => {
              finished = true;
              resolve();
            }, INTERVAL_MS / 2);
          });
        }),
    );
    const worker = new IntervalWorker('w', INTERVAL_MS, tick, { logger: quiet });
    worker.start();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(INTERVAL_MS / 4);
    expect(aborted).toBe(true);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    await stopping;
    expect(finished).toBe(true);
    expect(worker.status()).toMatchObject({ state: 'stopped', runs: 1 });
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(tick).toHaveBeenCalledTimes(1);
  });

  it('stop() need not wait on a tick stuck on an absent dependency when the tick races its signal', async () => {
    const never = new Promise<void>(() => undefined);
    const worker = new IntervalWorker('w', INTERVAL_MS, (signal) => abortable(never, signal), { logger: quiet });
    worker.start();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(worker.status().state).toBe('running');
    await worker.stop();
    expect(worker.status()).toEqual({ name: 'w', state: 'stopped', runs: 1, lastRunAt: expect.any(String) });
    expect(quiet.warn).not.toHaveBeenCalled();
  });

  it('does not keep the process alive', () => {
    jest.useRealTimers();
    const worker = new IntervalWorker('w', INTERVAL_MS, async () => undefined, { logger: quiet });
    worker.start();
    expect((worker as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    return worker.stop();
  });
});
