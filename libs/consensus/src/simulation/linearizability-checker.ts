/**
 * A Wing–Gong linearizability checker with Lowe's memoisation (as in Porcupine and Knossos):
 * search for a sequential order of the operations that respects real time and the model.
 * Operations whose outcome is unknown (a timed-out write) have `returnedAt = Infinity`: they may
 * take effect at any point after their invocation, or never.
 */
export interface RegisterOperation {
  readonly id: number;
  readonly kind: 'write' | 'read';
  /** Written value, or the value a read returned. `null` is the initial, never-written value. */
  readonly value: string | null;
  readonly invokedAt: number;
  readonly returnedAt: number;
}

export interface LinearizabilityResult {
  readonly ok: boolean;
  /** The ids of the longest prefix the search managed to linearize (for failure reports). */
  readonly longestPrefix: readonly number[];
}

/** The search is exponential in the worst case; past this many states it gives up loudly. */
export const MAX_SEARCH_STATES = 2_000_000;

interface ListNode {
  op: RegisterOperation;
  isCall: boolean;
  match: ListNode | undefined;
  prev: ListNode | undefined;
  next: ListNode | undefined;
}

function stepRegister(state: string | null, op: RegisterOperation): { ok: boolean; state: string | null } {
  if (op.kind === 'write') return { ok: true, state: op.value };
  return { ok: op.value === state, state };
}

export function checkRegisterHistory(operations: readonly RegisterOperation[]): LinearizabilityResult {
  for (const op of operations) {
    if (!(op.returnedAt >= op.invokedAt)) throw new Error(`operation ${op.id} returns before it is invoked`);
  }
  // Calls sort before returns at the same instant: operations that touch in time count as
  // concurrent, which can only make the checker more lenient, never report a false violation.
  const events = operations
    .flatMap((op) => [
      { op, isCall: true, time: op.invokedAt },
      { op, isCall: false, time: op.returnedAt },
    ])
    .sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op.id - b.op.id : a.isCall ? -1 : 1));

  const head: ListNode = { op: operations[0], isCall: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  const calls = new Map<number, ListNode>();
  for (const e of events) {
    const node: ListNode = { op: e.op, isCall: e.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = node;
    tail = node;
    if (e.isCall) calls.set(e.op.id, node);
    else {
      const call = calls.get(e.op.id);
      if (!call) throw new Error(`return before call for ${e.op.id}`);
      call.match = node;
    }
  }

  const index = new Map(operations.map((op, i) => [op.id, i]));
  const linearized = new Uint8Array(operations.length);
  const cache = new Set<string>();
  const stack: { node: ListNode; state: string | null }[] = [];
  let state: string | null = null;
  let entry = head.next;
  let longest: number[] = [];
  let visited = 0;

  const lift = (n: ListNode) => {
    n.prev!.next = n.next;
    if (n.next) n.next.prev = n.prev;
    const m = n.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (n: ListNode) => {
    const m = n.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    n.prev!.next = n;
    if (n.next) n.next.prev = n;
  };

  while (head.next !== undefined) {
    if (++visited > MAX_SEARCH_STATES) throw new Error(`linearizability search exceeded ${MAX_SEARCH_STATES} states`);
    if (entry === undefined) throw new Error('linearizability search ran off the end of the history');
    if (entry.isCall) {
      const result = stepRegister(state, entry.op);
      if (result.ok) {
        const i = index.get(entry.op.id)!;
        linearized[i] = 1;
        const key = `${linearized.join('')}|${result.state}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ node: entry, state });
          if (stack.length > longest.length) longest = stack.map((s) => s.node.op.id);
          state = result.state;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[i] = 0;
      }
      entry = entry.next;
    } else {
      const top = stack.pop();
      if (!top) return { ok: false, longestPrefix: longest };
      state = top.state;
      linearized[index.get(top.node.op.id)!] = 0;
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { ok: true, longestPrefix: stack.map((s) => s.node.op.id) };
}

/** A client's operation on one key of a key-value store, as the client saw it. */
export interface KeyValueOperation {
  readonly id: number;
  readonly kind: 'write' | 'read';
  readonly key: string;
  /** Written value, or the value a read returned. */
  readonly value: string | null;
  readonly invokedAt: number;
  /** Undefined: never returned. Infinity: the client gave up, the outcome is unknown. */
  readonly returnedAt: number | undefined;
  /** A read that never happened, or a write known never to have taken effect: not part of the history. */
  readonly discarded: boolean;
}

/**
 * Checks a key-value store's client history key by key, each key a register (linearizability is
 * local: the whole history is linearizable iff each key's is). Returns the first violation, described.
 */
export function checkKeyValueHistory(operations: readonly KeyValueOperation[], keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const history: RegisterOperation[] = operations
      .filter((o) => o.key === key && !o.discarded && (o.returnedAt !== undefined || o.kind === 'write'))
      .map((o) => ({ id: o.id, kind: o.kind, value: o.value, invokedAt: o.invokedAt, returnedAt: o.returnedAt ?? Infinity }));
    if (history.length === 0) continue;
    const result = checkRegisterHistory(history);
    if (!result.ok) {
      const lines = history.map((o) => `  #${o.id} ${o.kind} ${o.value} [${o.invokedAt}, ${o.returnedAt}]`).join('\n');
      return `history of key ${key} is not linearizable (longest linearizable prefix: ${result.longestPrefix.join(',')})\n${lines}`;
    }
  }
  return undefined;
}
