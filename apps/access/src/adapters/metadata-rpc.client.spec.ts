import { ReadYourWritesTracker } from './metadata-rpc.client';

describe('ReadYourWritesTracker', () => {
  it('makes a key read wait for that key and its bucket, a listing for everything', () => {
    const tracker = new ReadYourWritesTracker();
    tracker.wroteBucket(5);
    tracker.wroteKey('b', 'k1', 10);
    tracker.wroteKey('b', 'k2', 20);
    tracker.wrote(25);
    expect(tracker.forKey('b', 'k1')).toBe(10);
    expect(tracker.forKey('b', 'k2')).toBe(20);
    expect(tracker.forKey('b', 'cold')).toBe(5);
    expect(tracker.forKey('other', 'k1')).toBe(5);
    expect(tracker.forBucket()).toBe(5);
    expect(tracker.forEverything()).toBe(25);
  });

  it('never goes backwards for a key, and keys it forgets leave their sequence as a floor', () => {
    const tracker = new ReadYourWritesTracker(2);
    tracker.wroteKey('b', 'a', 30);
    tracker.wroteKey('b', 'a', 12);
    expect(tracker.forKey('b', 'a')).toBe(30);
    tracker.wroteKey('b', 'x', 40);
    tracker.wroteKey('b', 'y', 41);
    // 'a' was forgotten: every key read now waits for at least its sequence.
    expect(tracker.forKey('b', 'a')).toBe(30);
    expect(tracker.forKey('b', 'cold')).toBe(30);
    expect(tracker.forKey('b', 'y')).toBe(41);
  });
});
