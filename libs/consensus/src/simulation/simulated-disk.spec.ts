import { MemoryDisk } from '../driver/memory-disk';
import { MemoryStorage } from '../lib/memory-storage';
import type { Entry } from '../lib/raft.types';
import { SimulatedDisk } from './simulated-disk';

const entries: Entry[] = [{ kind: 'normal', index: 1, term: 1, data: 'a' }];
const ready = { entries, hardState: { term: 1, vote: 'n1', commit: 0 }, mustSync: true };

function disk() {
  const storage = new MemoryStorage({ voters: ['n1'] });
  let fsyncs = 0;
  return { storage, disk: new SimulatedDisk(new MemoryDisk(storage), () => fsyncs++), fsyncs: () => fsyncs };
}

describe('SimulatedDisk', () => {
  it('makes a write durable, and says so, only when its fsync completes', () => {
    const d = disk();
    let durable = false;
    d.disk.write(ready, () => (durable = true));
    expect(d.fsyncs()).toBe(1);
    expect(d.disk.writing).toBe(true);
    expect(d.storage.lastIndex()).toBe(0);
    expect(d.disk.completeFsync()).toBe(ready);
    expect(durable).toBe(true);
    expect(d.storage.lastIndex()).toBe(1);
    expect(d.storage.initialState().hardState.vote).toBe('n1');
    expect(d.disk.completeFsync()).toBeUndefined();
  });

  it('on a crash keeps or loses the write in flight, and its writer never hears', () => {
    for (const reachedPlatter of [true, false]) {
      const d = disk();
      let durable = false;
      d.disk.write(ready, () => (durable = true));
      d.disk.crash(reachedPlatter);
      expect(durable).toBe(false);
      expect(d.disk.writing).toBe(false);
      expect(d.storage.lastIndex()).toBe(reachedPlatter ? 1 : 0);
    }
  });
});
