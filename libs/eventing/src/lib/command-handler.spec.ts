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
