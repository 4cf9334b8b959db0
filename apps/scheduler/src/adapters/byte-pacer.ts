/**
 * Paces bytes to a rate: each `take(n)` gets the next slot of n bytes' time and resolves when
 * that slot starts, so the work it gates runs during its own slot (the pace caps the rate; it
 * does not add to the time each piece of work takes). No burst is saved up while idle, so a long
 * job moves at the rate from its first byte.
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
    const slotStartMs = Math.max(now, this.nextFreeAtMs);
    this.nextFreeAtMs = slotStartMs + (bytes / this.bytesPerSecond) * 1000;
    const waitMs = slotStartMs - now;
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
