export interface LruByteCacheLimits {
  readonly entriesMax: number;
  /** All entries together. */
  readonly bytesMax: number;
  /** One entry larger than this is not kept (default: bytesMax). */
  readonly entryBytesMax?: number;
}

/**
 * Values of a known size in bytes, kept within an entry count and a byte budget; the least
 * recently set goes first. The caches in front of JetStream share it, since what they hold (event
 * histories, folded states) can carry small objects' bytes and only a byte budget bounds them.
 */
export class LruByteCache<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly bytes: number }>();
  private totalBytes = 0;

  constructor(private readonly limits: LruByteCacheLimits) {}

  get(key: string): { readonly value: V; readonly bytes: number } | undefined {
    return this.entries.get(key);
  }

  /** Keeps `value` as the most recently used entry, unless it alone is over the entry budget. */
  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > (this.limits.entryBytesMax ?? this.limits.bytesMax)) return;
    this.entries.set(key, { value, bytes });
    this.totalBytes += bytes;
    while (this.entries.size > this.limits.entriesMax || this.totalBytes > this.limits.bytesMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  get sizeBytes(): number {
    return this.totalBytes;
  }
}
