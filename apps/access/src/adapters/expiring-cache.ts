export interface ExpiringCacheOptions<V> {
  /**
   * Fetches the value as of at least `minSequence` (the last change heard of for the key, 0 when
   * none); a rejection is passed on and nothing is cached.
   */
  readonly load: (key: string, minSequence: number) => Promise<V>;
  /** How long a loaded value is trusted. */
  readonly ttlMs: (value: V) => number;
  readonly maxEntries: number;
  readonly nowMs?: () => number;
}

interface Load<V> {
  promise?: Promise<V>;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAtMs: number;
}

/**
 * A read-through cache of answers from another service: concurrent misses of one key share one
 * load, entries expire, and `invalidate` drops a key at once — including a load already in flight,
 * whose (possibly older) answer is then handed to its callers but not kept. The stream sequence a
 * change was heard at is remembered, and later loads of the key ask for at least that.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loads = new Map<string, Load<V>>();
  private readonly changedAt = new Map<string, number>();
  private readonly nowMs: () => number;

  constructor(private readonly options: ExpiringCacheOptions<V>) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  get(key: string): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAtMs > this.nowMs()) return Promise.resolve(cached.value);
    const pending = this.loads.get(key)?.promise;
    if (pending) return pending;
    const load: Load<V> = {};
    this.loads.set(key, load);
    load.promise = this.load(key, load);
    return load.promise;
  }

  /** The key changed (at this stream sequence, when known): its value is loaded again, as of at least then. */
  invalidate(key: string, sequence = 0): void {
    this.entries.delete(key);
    this.loads.delete(key);
    const floor = Math.max(sequence, this.changedAt.get(key) ?? 0);
    this.changedAt.delete(key);
    if (floor > 0) this.changedAt.set(key, floor);
    if (this.changedAt.size > this.options.maxEntries) this.changedAt.delete(this.changedAt.keys().next().value as string);
  }

  private async load(key: string, load: Load<V>): Promise<V> {
    let value: V;
    try {
      value = await this.options.load(key, this.changedAt.get(key) ?? 0);
    } catch (error) {
      this.finish(key, load);
      throw error;
    }
    if (this.finish(key, load)) {
      if (this.entries.size >= this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, { value, expiresAtMs: this.nowMs() + this.options.ttlMs(value) });
    }
    return value;
  }

  /** Ends this load; false when the key was invalidated meanwhile (its answer is not kept). */
  private finish(key: string, load: Load<V>): boolean {
    if (this.loads.get(key) !== load) return false;
    this.loads.delete(key);
    return true;
  }
}
