import { StorageFullError, storageFullIfOutOfSpace } from '../domain/chunk-store.errors';
import { StorageReserve } from './storage-reserve';

const GiB = 1024 * 1024 * 1024;

function reserveWith(free: { bytes: number }, reserveBytes: number | undefined, clock: { now: number }) {
  let reads = 0;
  const reserve = new StorageReserve(
    { dataDir: '/data', ...(reserveBytes === undefined ? {} : { reserveBytes }) },
    async () => {
      reads++;
      return free.bytes;
    },
    () => clock.now,
  );
  return { reserve, reads: () => reads };
}

describe('StorageReserve', () => {
  it('admits a chunk that leaves the reserve free, and refuses one that would not', async () => {
    const { reserve } = reserveWith({ bytes: 3 * GiB }, 2 * GiB, { now: 0 });
    await expect(reserve.admit(GiB - 1)).resolves.toBeUndefined();
    await expect(reserve.admit(2)).rejects.toBeInstanceOf(StorageFullError);
  });

  it('counts what it admitted since the filesystem was last read, and reads it again after a second', async () => {
    const free = { bytes: 3 * GiB };
    const clock = { now: 0 };
    const { reserve, reads } = reserveWith(free, 2 * GiB, clock);
    await reserve.admit(GiB / 2);
    await reserve.admit(GiB / 2);
    await expect(reserve.admit(1)).rejects.toMatchObject({ code: 'STORAGE_FULL', details: { reserveBytes: 2 * GiB, incomingBytes: 1 } });
    expect(reads()).toBe(1);
    // Space freed meanwhile (deleted chunks): seen at the next read.
    free.bytes = 10 * GiB;
    clock.now = 1_000;
    await expect(reserve.admit(GiB)).resolves.toBeUndefined();
    expect(reads()).toBe(2);
  });

  it('refuses a body of unknown length only once the disk is already below the reserve', async () => {
    const free = { bytes: 2 * GiB };
    const clock = { now: 0 };
    const { reserve } = reserveWith(free, 2 * GiB, clock);
    await expect(reserve.admit(null)).resolves.toBeUndefined();
    free.bytes = 2 * GiB - 1;
    clock.now = 5_000;
    await expect(reserve.admit(null)).rejects.toBeInstanceOf(StorageFullError);
  });

  it('keeps 1 GiB by default, and nothing when the reserve is 0', async () => {
    await expect(reserveWith({ bytes: GiB + 10 }, undefined, { now: 0 }).reserve.admit(11)).rejects.toBeInstanceOf(StorageFullError);
    await expect(reserveWith({ bytes: 0 }, 0, { now: 0 }).reserve.admit(GiB)).resolves.toBeUndefined();
  });
});

describe('storageFullIfOutOfSpace', () => {
  it('turns ENOSPC and EDQUOT into STORAGE_FULL and leaves other errors alone', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(storageFullIfOutOfSpace(enospc)).toMatchObject({ code: 'STORAGE_FULL', message: expect.stringContaining('out of space (ENOSPC)') });
    expect(storageFullIfOutOfSpace(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBeInstanceOf(StorageFullError);
    const other = Object.assign(new Error('EIO'), { code: 'EIO' });
    expect(storageFullIfOutOfSpace(other)).toBe(other);
  });
});
