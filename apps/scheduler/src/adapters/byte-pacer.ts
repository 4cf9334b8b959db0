/**
 * Paces bytes to a rate: `take(n)` resolves when n more bytes fit in the rate since the pacer
 * last ran idle. No burst is saved up while idle, so a long job moves at the rate from its first
 * byte and its measured rate (hence its ETA) holds from the start.
 */
export class BytePacer {
  private nextFreeAtMs = 0;

  constructor(
    readonly bytesPerSecond: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`a pace of ${bytesPerSecond} bytes/s`);
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = this.nowMs();
    this.nextFreeAtMs = Math.max(now, this.nextFreeAtMs) + (bytes / this.bytesPerSecond) * 1000;
    const waitMs = this.nextFreeAtMs - now;
    if (waitMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, waitMs);
      function done() {
        signal?.removeEventListener('abort', aborted);
        resolve();
      }
      function aborted() {
        clearTimeout(timer);
        reject(signal?.reason ?? new Error('aborted'));
      }
      if (signal?.aborted) return aborted();
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}
