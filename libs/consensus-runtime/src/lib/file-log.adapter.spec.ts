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
});
