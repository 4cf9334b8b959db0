/**
 * Remembers the nonces of signed requests for as long as their timestamps are acceptable, so a
 * captured request cannot be sent again. Two generations of a set, swapped every window: a nonce
 * older than two windows would be refused by its timestamp anyway, so forgetting it is safe, and
 * memory stays bounded by the traffic of two windows.
 */
export class ReplayWindow {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    this.rotatedAt = now();
  }

  /** True the first time a nonce is offered within the window, false for a replay. */
  firstUse(nonce: string): boolean {
    this.rotate();
    if (this.current.has(nonce) || this.previous.has(nonce)) return false;
    this.current.add(nonce);
    return true;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  private rotate(): void {
    const now = this.now();
    if (now - this.rotatedAt < this.windowMs) return;
    // After two windows with no traffic both generations are stale.
    this.previous = now - this.rotatedAt < 2 * this.windowMs ? this.current : new Set();
    this.current = new Set();
    this.rotatedAt = now;
  }
}
