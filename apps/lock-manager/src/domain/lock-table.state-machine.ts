import { EventQueue } from '@cairn/consensus';
import type { LeaseSecretHash, LockCommand, LockMode } from './lock.commands';
import { LockErrorCodes, type LockErrorCode, type LockEvent } from './lock.events';

export const MAX_LOCK_TTL_MS = 10 * 60_000;
export const MAX_LOCK_WAIT_MS = 10 * 60_000;
export const MAX_WAITERS_PER_RESOURCE = 1_024;
export const MAX_NAME_LENGTH = 256;
/** The deadline index is rebuilt from the live leases and waits once it holds more than this many entries and twice what the last rebuild left. */
export const DEADLINES_COMPACT_MIN_ENTRIES = 1_024;
/** A lease secret's hash as the shell makes it: SHA-256, lowercase hex. */
export const SECRET_HASH_PATTERN = /^[0-9a-f]{64}$/;

export interface LockHolder {
  /** The acquire that was granted: a retried acquire with the same id gets the same grant back. */
  readonly requestId: string;
  readonly owner: string;
  readonly mode: LockMode;
  readonly fencingToken: number;
  readonly expiresAtMs: number;
  /** Renew and release must present the secret this hashes; null: granted before lease secrets. */
  readonly secretHash: LeaseSecretHash;
}

export interface LockWaiter {
  readonly requestId: string;
  readonly owner: string;
  readonly mode: LockMode;
  readonly ttlMs: number;
  /** Becomes the grant's secretHash. */
  readonly secretHash: LeaseSecretHash;
  readonly deadlineMs: number;
  /** Global arrival order: the highest is the youngest waiter. */
  readonly seq: number;
}

export interface ResourceState {
  /** The last token issued for this resource while it has been in the table. */
  readonly lastFencingToken: number;
  readonly holders: readonly LockHolder[];
  readonly waiters: readonly LockWaiter[];
}

/**
 * How grants draw fencing tokens.
 * - `table-wide`: from the table's own counter (`LockTableState.lastFencingToken + 1`), so a later
 *   grant of a resource has a larger token than every earlier grant of any resource, and a resource
 *   with no holders and no waiters is forgotten: the table holds only resources in use.
 * - `per-resource`: as lock entries up to v2 applied them: each resource's last token + 1, every
 *   resource ever locked kept for it. A table replays v2 entries this way, so a replica that
 *   restarts on the new code reaches the state the old code reached from the same log; the first
 *   current command switches the table to `table-wide`, for good (see applyToLockTable).
 */
export type FencingTokenSource = 'table-wide' | 'per-resource';

export interface LockTableState {
  readonly nowMs: number;
  readonly nextSeq: number;
  /** The largest fencing token the table has granted, for any resource (table-wide: the next grant gets one more). */
  readonly lastFencingToken: number;
  readonly fencingTokens: FencingTokenSource;
  readonly resources: Readonly<Record<string, ResourceState>>;
}

/** An empty table. It starts `per-resource` so a log written by v2 replays as v2 applied it; the first current command makes it `table-wide`. */
export function initialLockTableState(): LockTableState {
  return { nowMs: 0, nextSeq: 1, lastFencingToken: 0, fencingTokens: 'per-resource', resources: {} };
}

function compatible(a: LockMode, b: LockMode): boolean {
  return a === 'shared' && b === 'shared';
}

type MutableResource = { lastFencingToken: number; holders: LockHolder[]; waiters: LockWaiter[] };

/**
 * The table a replica applies commands to, in place: a command visits the resources it names and
 * those with a lease or wait due, never the whole table (once, when it switches to table-wide
 * tokens, it drops every free resource). `deadlines` and `waiting` are indexes derived from the
 * resources; they are not replicated state (a snapshot is the LockTableState alone) and are
 * rebuilt on restore.
 */
export interface LockTable extends LockTableState {
  nowMs: number;
  nextSeq: number;
  lastFencingToken: number;
  fencingTokens: FencingTokenSource;
  readonly resources: Record<string, MutableResource>;
  /** Every current lease end and wait deadline, each naming its resource (and stale ones, left by renewals, releases and forgotten resources until their time comes or the index is rebuilt): a hint to look at the resource then. */
  deadlines: EventQueue<string>;
  /** The size of `deadlines` when it was last rebuilt: it is rebuilt again at twice that (and at least DEADLINES_COMPACT_MIN_ENTRIES). */
  deadlinesRebuiltAt: number;
  /** Resources that may have waiters: the only ones the wait-for graph needs. */
  readonly waiting: Set<string>;
}

/** A working table holding a copy of `state` (O(resources): for restores and the pure applyLockCommand). */
export function lockTableOf(state: LockTableState): LockTable {
  const table: LockTable = {
    nowMs: state.nowMs,
    nextSeq: state.nextSeq,
    lastFencingToken: state.lastFencingToken,
    fencingTokens: state.fencingTokens,
    resources: {},
    deadlines: new EventQueue<string>(),
    deadlinesRebuiltAt: 0,
    waiting: new Set(),
  };
  for (const [name, r] of Object.entries(state.resources)) {
    table.resources[name] = { lastFencingToken: r.lastFencingToken, holders: r.holders.slice(), waiters: r.waiters.slice() };
    if (r.waiters.length > 0) table.waiting.add(name);
  }
  table.deadlines = deadlinesOf(table);
  table.deadlinesRebuiltAt = table.deadlines.size;
  return table;
}

/** The deadline index of `table`'s resources: one entry per lease end and wait deadline, none stale. */
function deadlinesOf(table: LockTable): EventQueue<string> {
  const deadlines = new EventQueue<string>();
  for (const [name, r] of Object.entries(table.resources)) {
    for (const h of r.holders) deadlines.push(h.expiresAtMs, name);
    for (const w of r.waiters) deadlines.push(w.deadlineMs, name);
  }
  return deadlines;
}

/** The replicated part of a table, as a snapshot stores it. */
export function lockTableStateOf(table: LockTable): LockTableState {
  return { nowMs: table.nowMs, nextSeq: table.nextSeq, lastFencingToken: table.lastFencingToken, fencingTokens: table.fencingTokens, resources: table.resources };
}

/**
 * The replicated lock table: `apply(state, command) -> { state, events }`, pure and
 * deterministic, so every replica that applies the same committed commands agrees exactly. It
 * copies the whole table; a replica applies to its own LockTable in place (applyToLockTable).
 */
export function applyLockCommand(state: LockTableState, command: LockCommand): { state: LockTableState; events: LockEvent[] } {
  const table = lockTableOf(state);
  const events = applyToLockTable(table, command);
  return { state: lockTableStateOf(table), events };
}

/**
 * Applies a command to `d` in place and returns its events: the same events, in the same order, as
 * applyLockCommand. `fromV2Entry`: the command comes from a lock log entry written before
 * table-wide tokens (v2 or v1); while the table is still `per-resource` it applies as v2 did. A
 * current command switches the table to `table-wide` first (see FencingTokenSource); a v2 command
 * after that applies table-wide too, so tokens never go back.
 */
export function applyToLockTable(d: LockTable, command: LockCommand, fromV2Entry = false): LockEvent[] {
  const events: LockEvent[] = [];
  if (!fromV2Entry && d.fencingTokens === 'per-resource') switchToTableWideTokens(d);
  // Committed time never runs backwards, even if a new leader's clock is behind the old one's.
  d.nowMs = Math.max(d.nowMs, command.nowMs);
  expire(d, events);

  switch (command.type) {
    case 'AdvanceTime':
      break;
    case 'AcquireLock':
      acquire(d, command, events);
      break;
    case 'RenewLock': {
      const found = heldLease(d, command);
      if (found.refusal) {
        events.push(found.refusal);
        break;
      }
      const ttlMs = Math.min(Math.max(1, command.ttlMs), MAX_LOCK_TTL_MS);
      found.r.holders[found.i] = { ...found.r.holders[found.i], expiresAtMs: d.nowMs + ttlMs };
      d.deadlines.push(d.nowMs + ttlMs, command.resource);
      events.push({ type: 'LockRenewed', resource: command.resource, owner: command.owner, fencingToken: command.fencingToken, expiresAtMs: d.nowMs + ttlMs });
      break;
    }
    case 'ReleaseLock': {
      const found = heldLease(d, command);
      if (found.refusal) {
        events.push(found.refusal);
        break;
      }
      found.r.holders.splice(found.i, 1);
      events.push({ type: 'LockReleased', resource: command.resource, owner: command.owner, fencingToken: command.fencingToken });
      grantWaiters(d, command.resource, events);
      break;
    }
    default: {
      const never: never = command;
      throw new Error(`unknown lock command ${JSON.stringify(never)}`);
    }
  }
  if (command.type !== 'AdvanceTime') forgetIfFree(d, command.resource);
  // Rebuilding walks the resources: only a table-wide table, which holds only those in use, does it.
  if (d.fencingTokens === 'table-wide' && d.deadlines.size > Math.max(DEADLINES_COMPACT_MIN_ENTRIES, 2 * d.deadlinesRebuiltAt)) {
    d.deadlines = deadlinesOf(d);
    d.deadlinesRebuiltAt = d.deadlines.size;
  }
  return events;
}

/**
 * From now on tokens come from the table's counter, which is already the largest token granted
 * (per-resource grants raise it too), and free resources are forgotten: the ones the table kept
 * only for their last token go now. Walks the table once, when the first current command applies.
 */
function switchToTableWideTokens(d: LockTable): void {
  d.fencingTokens = 'table-wide';
  for (const name of Object.keys(d.resources)) {
    const r = d.resources[name];
    if (r.lastFencingToken > d.lastFencingToken) throw new Error(`resource ${name} has token ${r.lastFencingToken} above the table's ${d.lastFencingToken}`);
    forgetIfFree(d, name);
  }
}

/** Table-wide tokens: a resource with no holders and no waiters leaves the table (and the wait index; its deadlines go stale). */
function forgetIfFree(d: LockTable, name: string): void {
  if (d.fencingTokens !== 'table-wide') return;
  const r = d.resources[name];
  if (!r || r.holders.length > 0 || r.waiters.length > 0) return;
  delete d.resources[name];
  d.waiting.delete(name);
}

/** The earliest lease end or wait deadline in `table`, in committed time: committing time before it changes nothing. */
export function nextDeadlineMs(table: LockTable): number | undefined {
  for (;;) {
    const next = table.deadlines.peek();
    if (next === undefined) return undefined;
    const r = table.resources[next.item];
    if (r && (r.holders.some((h) => h.expiresAtMs === next.at) || r.waiters.some((w) => w.deadlineMs === next.at))) return next.at;
    // A renewal, release or grant made this one stale: it marks nothing that is still due.
    table.deadlines.pop();
  }
}

/**
 * Who holds and who waits for `resource`, as of the last applied command. A resource not in the
 * table shows the table's last token as its own: no grant of it had a larger one, every later
 * grant will (0 for a `per-resource` table, which keeps every resource ever locked).
 */
export function inspectLock(state: LockTableState, resource: string): ResourceState & { readonly resource: string; readonly nowMs: number } {
  const r = state.resources[resource] ?? { lastFencingToken: state.fencingTokens === 'table-wide' ? state.lastFencingToken : 0, holders: [], waiters: [] };
  return { resource, nowMs: state.nowMs, ...r };
}

/**
 * The lease a renew or release names, if it still exists and the command proves it is its holder:
 * the hash of the grant's secret. A v1 command (no hash) matches only a grant made without one, as
 * it did in v1; a grant made without one is matched by no v2 command, so it can only expire.
 */
function heldLease(
  d: LockTable,
  c: Extract<LockCommand, { type: 'RenewLock' | 'ReleaseLock' }>,
): { refusal: LockEvent; r?: undefined; i?: undefined } | { refusal?: undefined; r: MutableResource; i: number } {
  const r = d.resources[c.resource];
  const i = r ? r.holders.findIndex((h) => h.owner === c.owner && h.fencingToken === c.fencingToken) : -1;
  if (!r || i < 0) return { refusal: refusal('', c.resource, c.owner, LockErrorCodes.NotHeld, 'no such lease (expired or released)') };
  const held = r.holders[i].secretHash;
  if (held !== c.secretHash) {
    const why = held === null ? 'the lease was granted before lease secrets and can only expire' : 'the lease secret does not match the grant’s';
    return { refusal: refusal('', c.resource, c.owner, LockErrorCodes.SecretMismatch, why) };
  }
  return { r, i };
}

function refusal(requestId: string, resource: string, owner: string, code: LockErrorCode, message: string): LockEvent {
  return { type: 'LockRefused', requestId, resource, owner, code, message };
}

function validName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_NAME_LENGTH;
}

function validSecretHash(hash: LeaseSecretHash): boolean {
  return hash === null || (typeof hash === 'string' && SECRET_HASH_PATTERN.test(hash));
}

function acquire(d: LockTable, c: Extract<LockCommand, { type: 'AcquireLock' }>, events: LockEvent[]): void {
  if (
    !validName(c.resource) ||
    !validName(c.owner) ||
    !(c.ttlMs > 0) ||
    c.ttlMs > MAX_LOCK_TTL_MS ||
    !(c.waitMs >= 0) ||
    c.waitMs > MAX_LOCK_WAIT_MS ||
    !validSecretHash(c.secretHash)
  ) {
    events.push(
      refusal(c.requestId, c.resource, c.owner, LockErrorCodes.Invalid, `invalid acquire (ttlMs in (0, ${MAX_LOCK_TTL_MS}], waitMs in [0, ${MAX_LOCK_WAIT_MS}], a lease secret hash)`),
    );
    return;
  }
  const r = (d.resources[c.resource] ??= { lastFencingToken: 0, holders: [], waiters: [] });
  // A client that lost the reply (leader crash, timeout) retries with the same request id: it
  // gets the grant or the place in the queue it already has, never a second one.
  const granted = r.holders.find((h) => h.requestId === c.requestId && h.owner === c.owner);
  const queuedAt = r.waiters.findIndex((w) => w.requestId === c.requestId && w.owner === c.owner);
  // Only the secret of the first attempt makes a retry the same request: another one would hand the lease to whoever sent it.
  if ((granted && granted.secretHash !== c.secretHash) || (queuedAt >= 0 && r.waiters[queuedAt].secretHash !== c.secretHash)) {
    events.push(refusal(c.requestId, c.resource, c.owner, LockErrorCodes.SecretMismatch, 'a retried acquire must carry the lease secret of the first attempt'));
    return;
  }
  if (granted) {
    events.push({ type: 'LockGranted', requestId: c.requestId, resource: c.resource, owner: c.owner, mode: granted.mode, fencingToken: granted.fencingToken, expiresAtMs: granted.expiresAtMs });
    return;
  }
  if (queuedAt >= 0) {
    events.push({ type: 'LockQueued', requestId: c.requestId, resource: c.resource, owner: c.owner, position: queuedAt + 1 });
    return;
  }
  if (r.holders.some((h) => h.owner === c.owner)) {
    events.push(refusal(c.requestId, c.resource, c.owner, LockErrorCodes.AlreadyHeld, 'the owner already holds this lock'));
    return;
  }
  if (r.waiters.some((w) => w.owner === c.owner)) {
    events.push(refusal(c.requestId, c.resource, c.owner, LockErrorCodes.AlreadyWaiting, 'the owner already waits for this lock'));
    return;
  }
  // FIFO: a newcomer may not overtake anyone already queued.
  if (r.waiters.length === 0 && r.holders.every((h) => compatible(h.mode, c.mode))) {
    events.push(grant(d, c.resource, c.requestId, c.owner, c.mode, c.ttlMs, c.secretHash));
    return;
  }
  if (c.waitMs === 0) {
    events.push(refusal(c.requestId, c.resource, c.owner, LockErrorCodes.Conflict, 'the lock is held'));
    return;
  }
  if (r.waiters.length >= MAX_WAITERS_PER_RESOURCE) {
    events.push(refusal(c.requestId, c.resource, c.owner, LockErrorCodes.QueueFull, `more than ${MAX_WAITERS_PER_RESOURCE} waiters`));
    return;
  }
  r.waiters.push({ requestId: c.requestId, owner: c.owner, mode: c.mode, ttlMs: c.ttlMs, secretHash: c.secretHash, deadlineMs: d.nowMs + c.waitMs, seq: d.nextSeq++ });
  d.deadlines.push(d.nowMs + c.waitMs, c.resource);
  d.waiting.add(c.resource);
  events.push({ type: 'LockQueued', requestId: c.requestId, resource: c.resource, owner: c.owner, position: r.waiters.length });
  breakDeadlocks(d, events);
}

function grant(d: LockTable, resource: string, requestId: string, owner: string, mode: LockMode, ttlMs: number, secretHash: LeaseSecretHash): LockEvent {
  const r = d.resources[resource];
  const fencingToken = (d.fencingTokens === 'table-wide' ? d.lastFencingToken : r.lastFencingToken) + 1;
  if (!(fencingToken > r.lastFencingToken)) throw new Error(`fencing token ${fencingToken} for ${resource} is not above its last, ${r.lastFencingToken}`);
  r.lastFencingToken = fencingToken;
  d.lastFencingToken = Math.max(d.lastFencingToken, fencingToken);
  const expiresAtMs = d.nowMs + ttlMs;
  r.holders.push({ requestId, owner, mode, fencingToken, expiresAtMs, secretHash });
  d.deadlines.push(expiresAtMs, resource);
  return { type: 'LockGranted', requestId, resource, owner, mode, fencingToken, expiresAtMs };
}

/** Grants queued requests in order for as long as the head of the queue is compatible. */
function grantWaiters(d: LockTable, resource: string, events: LockEvent[]): void {
  const r = d.resources[resource];
  while (r.waiters.length > 0) {
    const head = r.waiters[0];
    if (!r.holders.every((h) => compatible(h.mode, head.mode))) return;
    r.waiters.shift();
    events.push(grant(d, resource, head.requestId, head.owner, head.mode, head.ttlMs, head.secretHash));
  }
}

/** Expires what is due, resource by resource in name order: only resources with a deadline now or before are visited. */
function expire(d: LockTable, events: LockEvent[]): void {
  const due = new Set<string>();
  for (let next = d.deadlines.peek(); next !== undefined && next.at <= d.nowMs; next = d.deadlines.peek()) {
    due.add(next.item);
    d.deadlines.pop();
  }
  for (const name of [...due].sort()) {
    const r = d.resources[name];
    if (!r) continue;
    const expired = r.holders.filter((h) => h.expiresAtMs <= d.nowMs);
    const timedOut = r.waiters.filter((w) => w.deadlineMs <= d.nowMs);
    if (expired.length === 0 && timedOut.length === 0) continue;
    r.holders = r.holders.filter((h) => h.expiresAtMs > d.nowMs);
    r.waiters = r.waiters.filter((w) => w.deadlineMs > d.nowMs);
    for (const h of expired) events.push({ type: 'LockExpired', resource: name, owner: h.owner, fencingToken: h.fencingToken });
    for (const w of timedOut) events.push(refusal(w.requestId, name, w.owner, LockErrorCodes.WaitTimeout, 'waited too long'));
    grantWaiters(d, name, events);
    forgetIfFree(d, name);
  }
}

/**
 * The wait-for graph: a waiter waits for every incompatible holder and every incompatible waiter
 * queued ahead of it. While it has a cycle, the youngest waiter in the cycle is refused.
 */
function breakDeadlocks(d: LockTable, events: LockEvent[]): void {
  for (;;) {
    const edges = new Map<string, Set<string>>();
    const addEdge = (from: string, to: string) => {
      if (from === to) return;
      let set = edges.get(from);
      if (!set) edges.set(from, (set = new Set()));
      set.add(to);
    };
    for (const name of d.waiting) {
      const r = d.resources[name];
      if (!r || r.waiters.length === 0) {
        d.waiting.delete(name);
        continue;
      }
      r.waiters.forEach((w, i) => {
        for (const h of r.holders) if (!compatible(h.mode, w.mode)) addEdge(w.owner, h.owner);
        for (const ahead of r.waiters.slice(0, i)) if (!compatible(ahead.mode, w.mode)) addEdge(w.owner, ahead.owner);
      });
    }
    const cycle = findCycle(edges);
    if (!cycle) return;
    let youngest: { resource: string; waiter: LockWaiter } | undefined;
    for (const name of d.waiting) {
      for (const w of d.resources[name].waiters) {
        if (cycle.has(w.owner) && (!youngest || w.seq > youngest.waiter.seq)) youngest = { resource: name, waiter: w };
      }
    }
    if (!youngest) throw new Error('a wait-for cycle without waiters');
    const r = d.resources[youngest.resource];
    r.waiters = r.waiters.filter((w) => w !== youngest!.waiter);
    events.push(
      refusal(youngest.waiter.requestId, youngest.resource, youngest.waiter.owner, LockErrorCodes.Deadlock, `deadlock among ${[...cycle].sort().join(', ')}`),
    );
    // Removing a waiter can unblock the queue behind it.
    grantWaiters(d, youngest.resource, events);
    forgetIfFree(d, youngest.resource);
  }
}

function findCycle(edges: Map<string, Set<string>>): Set<string> | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): Set<string> | undefined => {
    state.set(node, 'visiting');
    path.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      const s = state.get(next);
      if (s === 'visiting') return new Set(path.slice(path.indexOf(next)));
      if (s === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...edges.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}
