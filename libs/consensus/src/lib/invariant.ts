/**
 * Raised when the core finds itself in a state Raft forbids. It is never caught by the core: a
 * broken invariant means the node must stop rather than risk acting on corrupt state.
 */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new RaftInvariantError(typeof message === 'string' ? message : message());
}

export function assertNever(value: never, what = 'value'): never {
  throw new RaftInvariantError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
