/**
 * A byte budget shared by every request of the gateway: a request takes what its chunk buffer
 * needs before filling it and gives it back once the chunk is stored (or served), waiting in
 * FIFO order while the budget is spent. Whatever the number of requests, buffered object bytes
 * stay under the budget; the waiting requests stop reading their sockets meanwhile.
 */
export class MemoryBudget {
  private availableBytes: number;
  private readonly waiters: Array<{ readonly bytes: number; readonly grant: () => void }> = [];

  constructor(readonly totalBytes: number) {
    if (!Number.isSafeInteger(totalBytes) || totalBytes <= 0) throw new RangeError(`memory budget ${totalBytes} must be a positive integer`);
    this.availableBytes = totalBytes;
  }

  get inUseBytes(): number {
    return this.totalBytes - this.availableBytes;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves once `bytes` are reserved; call the returned function exactly once to give them back. */
  async acquire(bytes: number): Promise<() => void> {
    if (bytes > this.totalBytes) throw new RangeError(`${bytes} bytes exceed the whole memory budget of ${this.totalBytes}`);
    if (this.waiters.length === 0 && bytes <= this.availableBytes) {
      this.availableBytes -= bytes;
    } else {
      await new Promise<void>((resolve) => this.waiters.push({ bytes, grant: resolve }));
    }
    return this.releaserOf(bytes);
  }

  /**
   * Reserves `bytes` only if that needs no wait (nothing queued and enough free), for work that is
   * worth doing only when memory is spare (read-ahead); null otherwise.
   */
  tryAcquire(bytes: number): (() => void) | null {
    if (this.waiters.length > 0 || bytes > this.availableBytes) return null;
    this.availableBytes -= bytes;
    return this.releaserOf(bytes);
  }

  private releaserOf(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.availableBytes += bytes;
      this.grantWaiters();
    };
  }

  private grantWaiters(): void {
    while (this.waiters.length > 0 && this.waiters[0].bytes <= this.availableBytes) {
      const next = this.waiters.shift() as { readonly bytes: number; readonly grant: () => void };
      this.availableBytes -= next.bytes;
      next.grant();
    }
  }
}
