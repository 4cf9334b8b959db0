import { MetadataRpc, type InitiateUploadReply } from '@cairn/protocol';
import { testNamespace } from '@cairn/testing';
import { twoInstancesWithBucket, uploadSmallParts } from '../testing/two-instances';
import { MetaProjectionWorker } from './meta-projection.worker';
import { ProjectionTracker } from './projection-tracker';

/** Far above anything these tests wait for: a waiter that only polled would sleep this long. */
const FALLBACK_POLL_MS = 30_000;
/** What a read wait must stay under (a woken waiter takes milliseconds; this allows a loaded machine). */
const WOKEN_WITHIN_MS = 10_000;
/**
 * What projecting the burst's rest may take after its last append: about 1 s here; were each
 * waiting batch left to its poll, each turn of 3-4 events would last the whole 2 s gap wait (~170 s).
 */
const BURST_PROJECTED_WITHIN_MS = 60_000;
const PARTS = 300;
const IN_FLIGHT = 32;
const LISTENING_DEADLINE_MS = 20_000;

async function waitUntil(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Two metadata instances (real JetStream and Postgres) hear each other's checkpoint commits
 * (LISTEN/NOTIFY): with the checkpoint polls of both set far above the test's bounds, waiters
 * still wake on the other instance's commit.
 */
describe('checkpoint notifications between two metadata instances (real JetStream and Postgres)', () => {
  const two = twoInstancesWithBucket(testNamespace(), 'notified', async (...instances) => {
    for (const instance of instances) {
      const tracker = instance.app.get(ProjectionTracker);
      await waitUntil(() => tracker.hearsCommits, LISTENING_DEADLINE_MS, 'the instance listens for checkpoint commits');
      tracker.checkpointFallbackPollMs = FALLBACK_POLL_MS;
      instance.app.get(MetaProjectionWorker).gapFallbackPollMs = FALLBACK_POLL_MS;
    }
  });
  const { call } = two;

  it('the two projectors take turns on a burst, each waking on the other one’s commit', async () => {
    const { uploadId } = await call<InitiateUploadReply>(MetadataRpc.initiateUpload, { bucket: 'notified', key: 'k', owner: 'alice' });
    await uploadSmallParts(two, 'notified', uploadId, PARTS, IN_FLIGHT);
    const tracker = two.a.app.get(ProjectionTracker);
    const last = await tracker.lastSequence('META');
    const appended = performance.now();
    // A batch waiting for the other instance's earlier one wakes on its commit, not on its poll.
    await tracker.waitFor('META', last, 3 * BURST_PROJECTED_WITHIN_MS);
    expect(performance.now() - appended).toBeLessThan(BURST_PROJECTED_WITHIN_MS);
    const worked = [two.a, two.b].map((instance) => instance.app.get(MetaProjectionWorker).status().progress?.doneItems ?? 0);
    expect(Math.min(...worked)).toBeGreaterThan(0);
  }, 300_000);

  it('a read waiting on one instance wakes on the other instance’s commit', async () => {
    // b commits nothing and reads the row on its own no more (its lag refresh): only a's commit,
    // heard, can wake the waiter before its 30 s poll.
    await two.b.app.get(MetaProjectionWorker).onApplicationShutdown();
    const waiter = two.b.app.get(ProjectionTracker);
    await (waiter as unknown as { lagRefresh: { stop(): Promise<void> } }).lagRefresh.stop();
    const next = (await waiter.checkpoint('META')) + 1;
    const started = performance.now();
    const woken = waiter.waitFor('META', next, 2 * FALLBACK_POLL_MS).then(() => performance.now() - started);
    // It has read the row and sleeps now.
    const sleeping = (waiter as unknown as { advanceWaiters: Record<'META', Set<unknown>> }).advanceWaiters.META;
    await waitUntil(() => sleeping.size > 0, WOKEN_WITHIN_MS, 'the read waits');
    // a's commit of the next sequence: stepping the checkpoint over it, as for a parked event (the
    // burst is projected and nothing else appends here).
    await two.a.app.get(ProjectionTracker).skip('META', next);
    expect(await two.a.app.get(ProjectionTracker).checkpoint('META')).toBe(next);
    expect(await woken).toBeLessThan(WOKEN_WITHIN_MS);
  }, 120_000);
});
