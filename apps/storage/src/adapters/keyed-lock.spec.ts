import { KeyedLock } from './keyed-lock';

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('runs shared holders of a key together and an exclusive one alone', async () => {
    const lock = new KeyedLock<string>();
    const log: string[] = [];
    const g = gate();
    const a = lock.shared('k', async () => {
      log.push('a+');
      await g.opened;
      log.push('a-');
    });
    const b = lock.shared('k', async () => {
      log.push('b+');
      await g.opened;
      log.push('b-');
    });
    const x = lock.exclusive('k', async () => {
      log.push('x');
    });
    await settle();
    expect(log).toEqual(['a+', 'b+']);
    g.open();
    await Promise.all([a, b, x]);
    expect(log).toEqual(['a+', 'b+', 'a-', 'b-', 'x']);
    expect(lock.activeKeyCount).toBe(0);
  });

  it('makes shared requests that come after a waiting exclusive one wait behind it', async () => {
    const lock = new KeyedLock<string>();
    const log: string[] = [];
    const g = gate();
    const first = lock.shared('k', async () => {
      await g.opened;
      log.push('first');
    });
    const x = lock.exclusive('k', async () => {
      log.push('x');
    });
    const late = lock.shared('k', async () => {
      log.push('late');
    });
    await settle();
    expect(log).toEqual([]);
    g.open();
    await Promise.all([first, x, late]);
    expect(log).toEqual(['first', 'x', 'late']);
  });

  it('keeps keys apart and releases on failure', async () => {
    const lock = new KeyedLock<string>();
    const g = gate();
    const held = lock.exclusive('a', () => g.opened);
    let otherRan = false;
    await lock.exclusive('b', async () => {
      otherRan = true;
    });
    expect(otherRan).toBe(true);
    g.open();
    await held;
    await expect(lock.exclusive('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.exclusive('a', async () => 'again')).resolves.toBe('again');
    expect(lock.activeKeyCount).toBe(0);
  });

  it('serialises exclusive holders in arrival order', async () => {
    const lock = new KeyedLock<number>();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        lock.exclusive(7, async () => {
          await settle();
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
