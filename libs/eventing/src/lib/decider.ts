import type { DomainEvent } from '@cairn/protocol';

/**
 * An aggregate as a decider: given its current state, a command decides which events happen; the
 * events, folded by `evolve`, give the next state. Pure: no I/O, clock or randomness (they come in
 * with the command).
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export function foldEvents<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
  from: State = decider.initialState(),
): State {
  return events.reduce((state, event) => decider.evolve(state, event), from);
}

/** Exhaustiveness check for a `switch` over a union's `type`: a missing case does not compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
