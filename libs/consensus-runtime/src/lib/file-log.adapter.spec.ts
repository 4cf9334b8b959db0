import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@cairn/consensus';
import { CorruptLogError, FileLogAdapter } from './file-log.adapter';
import { encodeRecord } from './record-codec';

const voters = ['a', 'b', 'c'];
const entry = (index: number, term = 1): Entry => ({ kind: 'normal', index, term, data: `d${index}` });
const range = (lo: number, hi: number, term = 1) => Array.from({ length: hi - lo + 1 }, (_, i) => entry(lo + i, term));

describe('FileLogAdapter (real files)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-raft-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const segmentFiles = () => readdirSync(dir).filter((f) => f.startsWith('segment-')).sort();

  /** Saves entries 1–4 in two records, closes the log, then flips one byte of the segment file (the index is chosen from its length). */
  const saveTwoRecordsThenFlipByte = (byteIndex: (length: number) => number) => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
    log.save({ entries: range(1, 2), hardState: { term: 1, vote: 'a', commit: 1 }, mustSync: true });
    log.save({ entries: range(3, 4), mustSync: true });
    log.close();
    const path = join(dir, segmentFiles()[0]);
    const bytes = readFileSync(path);
    bytes[byteIndex(bytes.length)] ^= 0xff;
    writeFileSync(path, bytes);
  };

  it('restarts with the term, vote, commit and entries it fsync\'d', () => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
    log.save({ entries: range(1, 3), hardState: { term: 1, vote: 'a', commit: 2 }, mustSync: true });
    log.save({ entries: [entry(3, 2), entry(4, 2)], hardState: { term: 2, vote: 'b', commit: 3 }, mustSync: true });
    log.close();
    const reopened = FileLogAdapter.open({ dir, bootstrap: { voters } });
    expect(reopened.initialState()).toEqual({ hardState: { term: 2, vote: 'b', commit: 3 }, confState: { voters } });
    expect(reopened.lastIndex()).toBe(4);
    // The conflicting suffix was replaced: index 3 is now term 2.
    expect(reopened.entries(1, 5, 10).map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/1', '3/2', '4/2']);
    expect(reopened.recovery).toMatchObject({ records: 2, tornBytesTruncated: 0 });
    reopened.close();
  });

  it('truncates a torn tail and keeps everything before it', () => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
    log.save({ entries: range(1, 2), hardState: { term: 1, vote: 'a', commit: 1 }, mustSync: true });
    log.close();
    const [segment] = segmentFiles();
    const sizeBefore = statSync(join(dir, segment)).size;
    const partial = encodeRecord({ v: 1, entries: range(3, 5) }).subarray(0, 20);
    appendFileSync(join(dir, segment), partial);
    const reopened = FileLogAdapter.open({ dir, bootstrap: { voters } });
    expect(reopened.recovery.tornBytesTruncated).toBe(partial.length);
    expect(statSync(join(dir, segment)).size).toBe(sizeBefore);
    expect(reopened.lastIndex()).toBe(2);
    // It goes on appending after the cut.
    reopened.save({ entries: range(3, 3), hardState: { term: 1, vote: 'a', commit: 3 }, mustSync: true });
    reopened.close();
    expect(FileLogAdapter.open({ dir }).lastIndex()).toBe(3);
  });

  it('treats a complete final record with a bad CRC as torn too', () => {
    saveTwoRecordsThenFlipByte((length) => length - 3);
    const reopened = FileLogAdapter.open({ dir });
    expect(reopened.lastIndex()).toBe(2);
    expect(reopened.recovery.tornBytesTruncated).toBeGreaterThan(0);
  });

  it('refuses to start on a corrupt record in the middle', () => {
    saveTwoRecordsThenFlipByte(() => 12); // inside the first record's payload
    expect(() => FileLogAdapter.open({ dir })).toThrow(CorruptLogError);
  });

  it('refuses a torn record in a sealed (non-final) segment', () => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters }, maxSegmentBytes: 200 });
    for (let i = 1; i <= 6; i++) log.save({ entries: [entry(i)], hardState: { term: 1, vote: 'a', commit: i - 1 }, mustSync: true });
    log.close();
    const files = segmentFiles();
    expect(files.length).toBeGreaterThan(1);
    const first = join(dir, files[0]);
    writeFileSync(first, readFileSync(first).subarray(0, statSync(first).size - 5));
    expect(() => FileLogAdapter.open({ dir })).toThrow(CorruptLogError);
  });

  it('rolls segments, and a snapshot drops the segments it covers', () => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters }, maxSegmentBytes: 300 });
    for (let i = 1; i <= 20; i++) log.save({ entries: [entry(i)], hardState: { term: 1, vote: 'a', commit: i }, mustSync: true });
    const before = segmentFiles().length;
    expect(before).toBeGreaterThan(3);
    log.createSnapshot(15, { voters }, 'state@15');
    expect(segmentFiles().length).toBeLessThan(before);
    log.close();
    const reopened = FileLogAdapter.open({ dir, maxSegmentBytes: 300 });
    expect(reopened.snapshot()).toEqual({ metadata: { index: 15, term: 1, confState: { voters } }, data: 'state@15' });
    expect(reopened.firstIndex()).toBe(16);
    expect(reopened.lastIndex()).toBe(20);
    expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 20 });
  });

  it('installs a snapshot from the leader, replacing the whole log', () => {
    const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
    log.save({ entries: range(1, 3), hardState: { term: 1, vote: 'a', commit: 2 }, mustSync: true });
    const snapshot = { metadata: { index: 50, term: 4, confState: { voters } }, data: 'leader-state' };
    log.save({ snapshot, entries: [], hardState: { term: 4, vote: '', commit: 50 }, mustSync: true });
    log.save({ entries: [entry(51, 4)], hardState: { term: 4, vote: '', commit: 51 }, mustSync: true });
    log.close();
    const reopened = FileLogAdapter.open({ dir });
    expect(reopened.snapshot().data).toBe('leader-state');
    expect([reopened.firstIndex(), reopened.lastIndex(), reopened.term(51)]).toEqual([51, 51, 4]);
  });

  describe('as the Raft loop\'s disk (write: queued, fsync\'d off the event loop)', () => {
    const durable = (log: FileLogAdapter, ready: Parameters<FileLogAdapter['write']>[0]) => new Promise<void>((resolve) => log.write(ready, resolve));

    it('says durable only later, after the read side holds the entries, and they survive a reopen', async () => {
      const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
      let done = false;
      const written = durable(log, { entries: range(1, 3), hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true }).then(() => (done = true));
      expect(done).toBe(false);
      expect(log.lastIndex()).toBe(0); // not readable before it is durable
      await written;
      expect(log.lastIndex()).toBe(3);
      log.close();
      const reopened = FileLogAdapter.open({ dir });
      expect(reopened.lastIndex()).toBe(3);
      expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    });

    it('groups records queued while a batch is on its way into the next batch, and says durable in order', async () => {
      const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
      const order: number[] = [];
      const first = durable(log, { entries: [entry(1)], hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true }).then(() => order.push(1));
      // Queued behind the first batch's fsync: these three share one write and one fsync.
      const rest = [2, 3, 4].map((i) => durable(log, { entries: [entry(i)], mustSync: true }).then(() => order.push(i)));
      expect(log.pendingRecords).toBe(4);
      await Promise.all([first, ...rest]);
      expect(order).toEqual([1, 2, 3, 4]);
      expect(log.pendingRecords).toBe(0);
      log.close();
      expect(FileLogAdapter.open({ dir }).lastIndex()).toBe(4);
    });

    it('acknowledges a commit-only record at once and writes it with the next batch', async () => {
      const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
      await durable(log, { entries: range(1, 2), hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true });
      let acknowledged = false;
      log.write({ entries: [], hardState: { term: 1, vote: 'a', commit: 2 }, mustSync: false }, () => (acknowledged = true));
      expect(acknowledged).toBe(true);
      expect(log.initialState().hardState.commit).toBe(2);
      await durable(log, { entries: [entry(3)], mustSync: true });
      log.close();
      const reopened = FileLogAdapter.open({ dir });
      expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
      expect(reopened.lastIndex()).toBe(3);
    });

    it('writes a queued commit-only record on close, and closes after a batch still in flight', async () => {
      const log = FileLogAdapter.open({ dir, bootstrap: { voters } });
      await durable(log, { entries: [entry(1)], hardState: { term: 1, vote: 'a', commit: 0 }, mustSync: true });
      log.write({ entries: [], hardState: { term: 1, vote: 'a', commit: 1 }, mustSync: false }, () => undefined);
      log.write({ entries: [entry(2)], mustSync: true }, () => undefined);
      log.close(); // the batch with entry 2 is in flight: the file closes when it is written
      await new Promise((resolve) => setTimeout(resolve, 200));
      const reopened = FileLogAdapter.open({ dir });
      expect(reopened.lastIndex()).toBe(2);
      expect(reopened.initialState().hardState.commit).toBe(1);
    });

    it('takes a snapshot after records it has acknowledged, and keeps them', async () => {
      const log = FileLogAdapter.open({ dir, bootstrap: { voters }, maxSegmentBytes: 300 });
      for (let i = 1; i <= 10; i++) await durable(log, { entries: [entry(i)], hardState: { term: 1, vote: 'a', commit: i - 1 }, mustSync: true });
      log.write({ entries: [], hardState: { term: 1, vote: 'a', commit: 10 }, mustSync: false }, () => undefined);
      log.createSnapshot(8, { voters }, 'state@8');
      await durable(log, { entries: [entry(11)], mustSync: true });
      log.close();
      const reopened = FileLogAdapter.open({ dir, maxSegmentBytes: 300 });
      expect([reopened.snapshot().metadata.index, reopened.firstIndex(), reopened.lastIndex()]).toEqual([8, 9, 11]);
      expect(reopened.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 10 });
    });
  });
});
