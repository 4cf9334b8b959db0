import { ReadYourWritesTracker } from './metadata-rpc.client';

describe('ReadYourWritesTracker', () => {
  it('makes a bucket read wait for bucket writes, a listing for every write, and never goes backwards', () => {
    const tracker = new ReadYourWritesTracker();
    tracker.wroteBucket(5);
    tracker.wrote(25);
    tracker.wrote(12);
    expect(tracker.forBucket()).toBe(5);
    expect(tracker.forEverything()).toBe(25);
    tracker.wroteBucket(3);
    expect(tracker.forBucket()).toBe(5);
  });
});
