import type { DomainEvent } from '@cairn/protocol';
import { foldEvents, type Decider } from './decider';

/**
 * given / when / then for deciders:
 *   spec.given([events]).when(command).then([events])
 *   spec.given([events]).when(command).thenThrows(ErrorClass, check?)
 * Works with any assertion library: it throws an Error describing the mismatch.
 */
export function deciderSpecification<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
  return {
    given(history: readonly Event[]) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, foldEvents(decider, history));
          return {
            then(expected: readonly Event[]) {
              const actual = run();
              const a = JSON.stringify(actual);
              const e = JSON.stringify(expected);
              if (a !== e) throw new Error(`decided events differ\nexpected: ${e}\nactual:   ${a}`);
            },
            thenThrows<E extends Error>(errorType: new (...args: never[]) => E, check?: (error: E) => boolean) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              if (thrown === undefined) throw new Error(`expected ${errorType.name} to be thrown, but the command succeeded`);
              if (!(thrown instanceof errorType)) throw new Error(`expected ${errorType.name}, got ${String(thrown)}`);
              if (check && !check(thrown)) throw new Error(`the ${errorType.name} thrown did not pass the check: ${thrown.message}`);
            },
          };
        },
      };
    },
  };
}
