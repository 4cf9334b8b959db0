import type { StoredEvent } from '@cairn/eventing';
import type { JsMsg } from 'nats';
import { MetaProjectionWorker } from './meta-projection.worker';
import type { ProjectionTracker } from './projection-tracker';

/** A delivered META event that records how it was settled. */
function message(seq: number) {
  const settled: string[] = [];
  const m = {
    seq,
    data: new Uint8Array(),
    ack: () => settled.push('ack'),
    nak: (ms?: number) => settled.push(`nak ${ms}`),
    term: () => settled.push('term'),
    working: () => undefined,
  };
  return { m: m as unknown as JsMsg, settled };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(from + i));

/** A waiter's poll of the checkpoint row while commits are heard: far past the 2 s a gap wait lasts. */
const HEARD_FALLBACK_POLL_MS = 10_000;

/**
 * A tracker whose checkpoint row is `state.checkpoint`: a contiguous batch commits from right after
 * it and stops at the first hole, as the projector does under the row lock. What it knows committed
 * advances on its own commits, its reads of the row, and (`hearsCommits`) on the other instance's
 * commits, which `commitByOther` makes.
 */
function trackerAt(state: { checkpoint: number; onPoll?: () => void; poison?: number; hearsCommits?: boolean }) {
  const batches: number[][] = [];
  let known = state.checkpoint;
  const listeners = new Set<() => void>();
  const advance = (checkpoint: number) => {
    if (checkpoint <= known) return;
    known = checkpoint;
    for (const listener of [...listeners]) listener();
  };
  const tracker = {
    projectBatch: async (_stream: string, events: readonly StoredEvent[]) => {
      batches.push(events.map((e) => e.sequence));
      let checkpoint = state.checkpoint;
      for (const e of events) {
        if (e.sequence <= checkpoint) continue;
        if (e.sequence !== checkpoint + 1) break;
        if (e.sequence === state.poison) throw new Error(`cannot project #${e.sequence}`); // the transaction rolls back
        checkpoint = e.sequence;
      }
      state.checkpoint = checkpoint;
      advance(checkpoint);
      return checkpoint;
    },
    checkpoint: async () => {
      state.onPoll?.();
      advance(state.checkpoint);
      return state.checkpoint;
    },
    committed: () => known,
    pollIntervalMs: (notListeningMs: number) => (state.hearsCommits ? HEARD_FALLBACK_POLL_MS : notListeningMs),
    onAdvance: (_stream: string, listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const commitByOther = (sequence: number) => {
    state.checkpoint = sequence;
    if (state.hearsCommits) advance(sequence);
  };
  return { tracker: tracker as unknown as ProjectionTracker, batches, commitByOther };
}

function workerWith(tracker: ProjectionTracker) {
  const worker = new MetaProjectionWorker(tracker, {} as never, {} as never, { namespace: 'ns' } as never, {} as never);
  return worker as unknown as { handle(delivered: JsMsg[], holdsEarlier?: (from: number, to: number) => boolean): Promise<JsMsg[]>; status(): { progress?: { detail?: string } } };
}

jest.mock('@cairn/messaging', () => ({
  ...jest.requireActual('@cairn/messaging'),
  decodeEvent: () => ({}),
}));

describe('MetaProjectionWorker: a batch past a gap', () => {
  it('waits for the instance holding the earlier events to commit them, then projects its batch without handing it back', async () => {
    let polls = 0;
    const state = { checkpoint: 100, onPoll: () => (polls += 1) === 3 && (state.checkpoint = 150) };
    const { tracker, batches } = trackerAt(state);
    const delivered = range(151, 200);
    await workerWith(tracker).handle(delivered.map((d) => d.m));
    expect(delivered.every((d) => d.settled.join() === 'ack')).toBe(true);
    expect(state.checkpoint).toBe(200);
    expect(batches).toHaveLength(2);
  });

  it('wakes on the commit of the instance holding the earlier events (its notification), without polling the checkpoint', async () => {
    let polls = 0;
    const state = { checkpoint: 100, hearsCommits: true, onPoll: () => (polls += 1) };
    const { tracker, batches, commitByOther } = trackerAt(state);
    const delivered = range(151, 200);
    const started = Date.now();
    const handled = workerWith(tracker).handle(delivered.map((d) => d.m));
    setTimeout(() => commitByOther(150), 50);
    await handled;
    expect(delivered.every((d) => d.settled.join() === 'ack')).toBe(true);
    expect(state.checkpoint).toBe(200);
    expect(batches).toHaveLength(2);
    // Not woken, it would have waited out the gap wait (2 s) and then read the row.
    expect(polls).toBe(0);
    expect(Date.now() - started).toBeLessThan(HEARD_FALLBACK_POLL_MS / 2);
  });

  it('commits up to a hole inside its batch, waits for the hole to be filled, then commits the rest', async () => {
    const state = { checkpoint: 100, onPoll: () => (state.checkpoint = Math.max(state.checkpoint, 120)) };
    const { tracker } = trackerAt(state);
    const delivered = [...range(101, 110), ...range(121, 130)];
    await workerWith(tracker).handle(delivered.map((d) => d.m));
    expect(delivered.every((d) => d.settled.join() === 'ack')).toBe(true);
    expect(state.checkpoint).toBe(130);
  });

  it('hands its batch back when the earlier events never come (their holder died), within a bound far below the ack wait', async () => {
    const { tracker } = trackerAt({ checkpoint: 100 });
    const delivered = range(151, 160);
    const started = Date.now();
    const worker = workerWith(tracker);
    await worker.handle(delivered.map((d) => d.m));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(delivered.every((d) => d.settled.join() === 'nak 20')).toBe(true);
    expect(worker.status().progress?.detail).toMatch(/^1 gaps/);
  });

  it('keeps its batch, unsettled, for after the earlier events its own buffer holds (a redelivery), instead of handing it back', async () => {
    const { tracker } = trackerAt({ checkpoint: 100 });
    const delivered = range(151, 160);
    const started = Date.now();
    const kept = await workerWith(tracker).handle(
      delivered.map((d) => d.m),
      (from, to) => from < 120 && to > 120,
    );
    expect(Date.now() - started).toBeLessThan(500);
    expect(kept.map((m) => m.seq)).toEqual(delivered.map((d) => d.m.seq));
    expect(delivered.every((d) => d.settled.length === 0)).toBe(true);
  });

  it('goes event by event over the part past the gap when it fails: what precedes the poison event is acked, the rest retried', async () => {
    const state = { checkpoint: 100, poison: 155, onPoll: () => (state.checkpoint = Math.max(state.checkpoint, 150)) };
    const { tracker } = trackerAt(state);
    const delivered = range(151, 160);
    await workerWith(tracker).handle(delivered.map((d) => d.m));
    expect(delivered.map((d) => d.settled.join())).toEqual([...Array(4).fill('ack'), ...Array(6).fill('nak 50')]);
    expect(state.checkpoint).toBe(154);
  });
});
