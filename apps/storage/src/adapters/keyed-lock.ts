type LockMode = 'shared' | 'exclusive';

interface Waiter {
  readonly mode: LockMode;
  readonly grant: () => void;
}

interface KeyState {
  sharedHolders: number;
  exclusiveHeld: boolean;
  readonly queue: Waiter[];
}

/**
 * Per-key shared/exclusive locks, held in memory by one process. Shared holders run together;
 * an exclusive holder runs alone. Grants are first come, first served: once an exclusive waiter
 * queues, later shared requests wait behind it, so a steady stream of readers cannot starve it.
 * A key's state exists only while someone holds or waits for it.
 */
export class KeyedLock<K> {
  private readonly keys = new Map<K, KeyState>();

  /** Keys currently held or waited for. */
  get activeKeyCount(): number {
    return this.keys.size;
  }

  shared<T>(key: K, work: () => Promise<T>): Promise<T> {
    return this.run(key, 'shared', work);
  }

  exclusive<T>(key: K, work: () => Promise<T>): Promise<T> {
    return this.run(key, 'exclusive', work);
  }

  private async run<T>(key: K, mode: LockMode, work: () => Promise<T>): Promise<T> {
    await this.acquire(key, mode);
    try {
      return await work();
    } finally {
      this.release(key, mode);
    }
  }

  private acquire(key: K, mode: LockMode): Promise<void> {
    let state = this.keys.get(key);
    if (!state) {
      state = { sharedHolders: 0, exclusiveHeld: false, queue: [] };
      this.keys.set(key, state);
    }
    if (state.queue.length === 0 && grantable(state, mode)) {
      take(state, mode);
      return Promise.resolve();
    }
    const queued = state;
    return new Promise<void>((resolve) => queued.queue.push({ mode, grant: resolve }));
  }

  private release(key: K, mode: LockMode): void {
    const state = this.keys.get(key);
    if (!state) throw new Error('released a lock that is not held');
    if (mode === 'exclusive') {
      if (!state.exclusiveHeld) throw new Error('released an exclusive lock that is not held');
      state.exclusiveHeld = false;
    } else {
      if (state.sharedHolders === 0) throw new Error('released a shared lock that is not held');
      state.sharedHolders--;
    }
    while (state.queue.length > 0 && grantable(state, state.queue[0].mode)) {
      const next = state.queue.shift()!;
      take(state, next.mode);
      next.grant();
    }
    if (state.sharedHolders === 0 && !state.exclusiveHeld && state.queue.length === 0) this.keys.delete(key);
  }
}

function grantable(state: KeyState, mode: LockMode): boolean {
  if (state.exclusiveHeld) return false;
  return mode === 'shared' || state.sharedHolders === 0;
}

function take(state: KeyState, mode: LockMode): void {
  if (mode === 'exclusive') state.exclusiveHeld = true;
  else state.sharedHolders++;
}
