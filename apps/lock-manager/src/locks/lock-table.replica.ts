import type { Entry, ReplicatedStateMachine, Snapshot } from '@cairn/consensus';
import type { LockCommand } from '../domain/lock.commands';
import type { LockEvent } from '../domain/lock.events';
import {
  applyToLockTable,
  initialLockTableState,
  lockTableOf,
  lockTableStateOf,
  nextDeadlineMs,
  type LockHolder,
  type LockTable,
  type LockTableState,
  type LockWaiter,
  type ResourceState,
} from '../domain/lock-table.state-machine';

/**
 * Log entries and snapshots carry a schema version so the format can evolve (upcast on read).
 * v1: no lease secrets. v2: acquire, renew and release carry `secretHash`; holders and waiters
 * keep it. A v1 entry or snapshot is upcast with `secretHash: null` (see LeaseSecretHash).
 * v3: fencing tokens come from one table-wide counter and free resources are forgotten. A v3
 * entry's command is a v2 command; the version tells the table how to apply it: a v1 or v2 entry
 * applies as v2 did until the first v3 entry (see FencingTokenSource), and a v2 replica refuses a
 * v3 entry rather than apply it differently. A v3 snapshot adds `lastFencingToken` and
 * `fencingTokens`; a v2 one is upcast as `per-resource` with the largest of its tokens.
 */
export const LOCK_ENTRY_VERSION = 3;
export const LOCK_SNAPSHOT_VERSION = 3;

interface LockEntryRecord {
  readonly v: number;
  readonly command: LockCommand;
}

export function encodeLockCommand(command: LockCommand): string {
  const record: LockEntryRecord = { v: LOCK_ENTRY_VERSION, command };
  return JSON.stringify(record);
}

type LockCommandV1 =
  | Omit<Extract<LockCommand, { type: 'AcquireLock' }>, 'secretHash'>
  | Omit<Extract<LockCommand, { type: 'RenewLock' }>, 'secretHash'>
  | Omit<Extract<LockCommand, { type: 'ReleaseLock' }>, 'secretHash'>
  | Extract<LockCommand, { type: 'AdvanceTime' }>;

/** A v1 entry's command as v2: no secret, so it applies exactly as v1 applied it. */
export function upcastLockCommandV1(command: LockCommandV1): LockCommand {
  return command.type === 'AdvanceTime' ? command : { ...command, secretHash: null };
}

interface LockTableStateV1 {
  readonly nowMs: number;
  readonly nextSeq: number;
  readonly resources: Readonly<
    Record<
      string,
      {
        readonly lastFencingToken: number;
        readonly holders: readonly Omit<LockHolder, 'secretHash'>[];
        readonly waiters: readonly Omit<LockWaiter, 'secretHash'>[];
      }
    >
  >;
}

type LockTableStateV2 = Omit<LockTableState, 'lastFencingToken' | 'fencingTokens'>;

/** A v1 snapshot's table as v2: its grants and waiters have no secret, so they can only expire. */
export function upcastLockTableStateV1(state: LockTableStateV1): LockTableStateV2 {
  const resources: Record<string, ResourceState> = {};
  for (const [name, r] of Object.entries(state.resources)) {
    resources[name] = {
      lastFencingToken: r.lastFencingToken,
      holders: r.holders.map((h) => ({ ...h, secretHash: null })),
      waiters: r.waiters.map((w) => ({ ...w, secretHash: null })),
    };
  }
  return { nowMs: state.nowMs, nextSeq: state.nextSeq, resources };
}

/** A v2 snapshot's table as v3: still `per-resource` (it has every resource ever locked), its counter the largest of their tokens. */
export function upcastLockTableStateV2(state: LockTableStateV2): LockTableState {
  let lastFencingToken = 0;
  for (const r of Object.values(state.resources)) lastFencingToken = Math.max(lastFencingToken, r.lastFencingToken);
  return { nowMs: state.nowMs, nextSeq: state.nextSeq, lastFencingToken, fencingTokens: 'per-resource', resources: state.resources };
}

type TerminalEvent = Extract<LockEvent, { type: 'LockGranted' | 'LockRefused' }>;

/**
 * The lock table as the Raft driver's state machine. Every replica applies the same committed
 * commands; listeners hear each applied event, which is how a request queued behind a holder
 * learns, on whichever replica it waits, that it was granted or refused later.
 */
export class LockTableReplica implements ReplicatedStateMachine<LockEvent[]> {
  private current: LockTable = lockTableOf(initialLockTableState());
  private readonly watchers = new Map<string, Set<(event: TerminalEvent) => void>>();

  /** The table as of the last applied entry (live: read it in the same turn). */
  get state(): LockTableState {
    return this.current;
  }

  apply(entry: Entry): LockEvent[] {
    // Empty entries are a new leader's no-op; conf changes belong to Raft.
    if (entry.kind !== 'normal' || entry.data === '') return [];
    const record = JSON.parse(entry.data) as LockEntryRecord;
    let command: LockCommand;
    if (record.v === LOCK_ENTRY_VERSION || record.v === 2) command = record.command;
    else if (record.v === 1) command = upcastLockCommandV1(record.command as LockCommandV1);
    else throw new Error(`lock log entry ${entry.index} has unknown version ${record.v}`);
    const events = applyToLockTable(this.current, command, record.v < LOCK_ENTRY_VERSION);
    for (const event of events) {
      if ((event.type === 'LockGranted' || event.type === 'LockRefused') && event.requestId !== '') this.notify(event);
    }
    return events;
  }

  restore(snapshot: Snapshot): void {
    const record = JSON.parse(snapshot.data) as { v: number; state: unknown };
    if (record.v === LOCK_SNAPSHOT_VERSION) this.current = lockTableOf(record.state as LockTableState);
    else if (record.v === 2) this.current = lockTableOf(upcastLockTableStateV2(record.state as LockTableStateV2));
    else if (record.v === 1) this.current = lockTableOf(upcastLockTableStateV2(upcastLockTableStateV1(record.state as LockTableStateV1)));
    else throw new Error(`lock snapshot has unknown version ${record.v}`);
  }

  snapshotData(): string {
    return JSON.stringify({ v: LOCK_SNAPSHOT_VERSION, state: lockTableStateOf(this.current) });
  }

  /** The earliest lease end or wait deadline, in committed time: committing time before it changes nothing. */
  nextDeadlineMs(): number | undefined {
    return nextDeadlineMs(this.current);
  }

  /**
   * Resolves with the grant or refusal of `requestId`, whenever it applies. Watch before
   * proposing: the outcome may apply before the proposal's own promise continues.
   */
  watch(requestId: string): { readonly outcome: Promise<TerminalEvent>; cancel(): void } {
    let listener!: (event: TerminalEvent) => void;
    const outcome = new Promise<TerminalEvent>((resolve) => (listener = resolve));
    let set = this.watchers.get(requestId);
    if (!set) this.watchers.set(requestId, (set = new Set()));
    set.add(listener);
    return {
      outcome,
      cancel: () => {
        const s = this.watchers.get(requestId);
        s?.delete(listener);
        if (s?.size === 0) this.watchers.delete(requestId);
      },
    };
  }

  private notify(event: TerminalEvent): void {
    const set = this.watchers.get(event.requestId);
    if (!set) return;
    this.watchers.delete(event.requestId);
    for (const listener of set) listener(event);
  }
}
