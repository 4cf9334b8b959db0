import type { EventStore } from './event-store.port';
import { ConcurrencyConflictError } from './event-store.port';
import { handleCommand } from './command-handler';
import { deciderSpecification } from './decider-specification';
import { InMemoryEventStore } from './in-memory-event-store';
import { assertNever, type Decider } from './decider';

type CounterEvent = { type: 'Incremented'; data: { by: number } } | { type: 'Reset'; data: Record<string, never> };
type CounterCommand = { type: 'Increment'; by: number; max: number } | { type: 'Reset' };
class OverLimit extends Error {}

const counter: Decider<CounterCommand, CounterEvent, number> = {
  initialState: () => 0,
  evolve: (state, event) => {
    switch (event.type) {
      case 'Incremented':
        return state + event.data.by;
      case 'Reset':
        return 0;
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'Increment':
        if (state + command.by > command.max) throw new OverLimit(`${state} + ${command.by} > ${command.max}`);
        return [{ type: 'Incremented', data: { by: command.by } }];
      case 'Reset':
        return state === 0 ? [] : [{ type: 'Reset', data: {} }];
      default:
        return assertNever(command);
    }
  },
};

let ids = 0;
const ctx = { region: 'r1', now: () => new Date(0), newId: () => `id-${++ids}`, nextHlc: () => String(ids) };

describe('handleCommand', () => {
  it('loads, decides and appends, returning the new state and sequence', async () => {
    const store = new InMemoryEventStore();
    await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 2, max: 10 }, ctx);
    const second = await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 3, max: 10 }, ctx);
    expect(second.state).toBe(5);
    expect(second.sequence).toBe(2);
    expect(second.events[0]).toMatchObject({ type: 'Incremented', aggregateId: 'a', region: 'r1', schemaVersion: 1 });
  });

  it('appends nothing when the decider decides nothing', async () => {
    const store = new InMemoryEventStore();
    const result = await handleCommand(store, counter, 's', 'a', { type: 'Reset' }, ctx);
    expect(result.events).toEqual([]);
    expect(store.all()).toEqual([]);
  });

  it('reloads and decides again after a concurrent writer wins, so neither update is lost', async () => {
    const inner = new InMemoryEventStore();
    let interfered = false;
    const racing: EventStore = {
      read: (s) => inner.read(s),
      append: async (s, events, expected) => {
        if (!interfered) {
          interfered = true;
          await handleCommand(inner, counter, s, 'a', { type: 'Increment', by: 100, max: 1000 }, ctx);
        }
        return inner.append(s, events, expected);
      },
    };
    const result = await handleCommand(racing, counter, 's', 'a', { type: 'Increment', by: 1, max: 1000 }, ctx);
    expect(result.attempts).toBe(2);
    expect(result.state).toBe(101);
  });

  it('gives up after the retry bound with the conflict', async () => {
    const always: EventStore = {
      read: async () => ({ events: [], lastSequence: 0 }),
      append: async (s, _e, expected) => {
        throw new ConcurrencyConflictError(s, expected, expected + 1);
      },
    };
    await expect(handleCommand(always, counter, 's', 'a', { type: 'Increment', by: 1, max: 5 }, ctx, { maxRetries: 2 })).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
  });

  describe('with a state cache that may answer unverified on the first attempt', () => {
    /** A cache over `store` that keeps `kept` (state, sequence) and counts its look-ups of the last sequence. */
    const cacheOver = (store: InMemoryEventStore, kept: { state: number; sequence: number }) => {
      const calls = { verified: 0, isCurrent: 0 };
      const last = async () => (await store.read('s')).lastSequence;
      const states = {
        load: async (trustKept: boolean) => {
          if (trustKept) return { ...kept, verified: false };
          calls.verified++;
          const read = await store.read('s');
          return { state: read.events.reduce((sum, e) => sum + ((e.envelope.data as { by?: number }).by ?? 0), 0), sequence: read.lastSequence };
        },
        appended: (state: unknown, sequence: number) => Object.assign(kept, { state: state as number, sequence }),
        isCurrent: async (sequence: number) => {
          calls.isCurrent++;
          return (await last()) === sequence;
        },
      };
      return { states, calls };
    };

    it('appends on a current kept state without asking the subject first', async () => {
      const store = new InMemoryEventStore();
      await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 2, max: 10 }, ctx);
      const { states, calls } = cacheOver(store, { state: 2, sequence: 1 });
      const result = await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 3, max: 10 }, ctx, { states });
      expect([result.state, result.sequence, result.attempts]).toEqual([5, 2, 1]);
      expect(calls).toEqual({ verified: 0, isCurrent: 0 });
    });

    it('reloads at once (no backoff) when the kept state was stale, so the append still sees every event', async () => {
      const store = new InMemoryEventStore();
      await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 2, max: 10 }, ctx);
      const { states, calls } = cacheOver(store, { state: 0, sequence: 0 }); // guessed new
      const onConflict = jest.fn();
      const result = await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 3, max: 10 }, ctx, { states, onConflict });
      expect([result.state, result.sequence, result.attempts]).toEqual([5, 2, 2]);
      expect(calls.verified).toBe(1);
      expect(onConflict).not.toHaveBeenCalled();
    });

    it('checks an answer that appends nothing, and decides again when the kept state was stale', async () => {
      const store = new InMemoryEventStore();
      await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 2, max: 10 }, ctx);
      const { states, calls } = cacheOver(store, { state: 0, sequence: 0 });
      const result = await handleCommand(store, counter, 's', 'a', { type: 'Reset' }, ctx, { states });
      // On the stale state (0) a reset decides nothing; on the real one (2) it resets.
      expect(result.events.map((e) => e.type)).toEqual(['Reset']);
      expect(calls).toEqual({ verified: 1, isCurrent: 1 });
    });

    it('checks a refusal too: one decided on a stale state is decided again', async () => {
      const store = new InMemoryEventStore();
      await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 2, max: 10 }, ctx);
      const stale = cacheOver(store, { state: 9, sequence: 7 });
      const result = await handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 3, max: 10 }, ctx, { states: stale.states });
      expect(result.state).toBe(5);
      const current = cacheOver(store, { state: 5, sequence: 2 });
      await expect(handleCommand(store, counter, 's', 'a', { type: 'Increment', by: 9, max: 10 }, ctx, { states: current.states })).rejects.toBeInstanceOf(OverLimit);
      expect(current.calls).toEqual({ verified: 0, isCurrent: 1 });
    });
  });

  it('lets decider errors through untouched', async () => {
    await expect(
      handleCommand(new InMemoryEventStore(), counter, 's', 'a', { type: 'Increment', by: 9, max: 5 }, ctx),
    ).rejects.toBeInstanceOf(OverLimit);
  });
});

describe('deciderSpecification', () => {
  const spec = deciderSpecification(counter);
  it('passes when the decided events match and fails loudly when they do not', () => {
    spec.given([{ type: 'Incremented', data: { by: 1 } }]).when({ type: 'Reset' }).then([{ type: 'Reset', data: {} }]);
    expect(() => spec.given([]).when({ type: 'Reset' }).then([{ type: 'Reset', data: {} }])).toThrow(/differ/);
    spec.given([]).when({ type: 'Increment', by: 6, max: 5 }).thenThrows(OverLimit);
    expect(() => spec.given([]).when({ type: 'Increment', by: 1, max: 5 }).thenThrows(OverLimit)).toThrow(/succeeded/);
  });
});
