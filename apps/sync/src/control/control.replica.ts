import type { Entry, ReplicatedStateMachine, Snapshot } from '@cairn/consensus';
import { applyControlCommand, initialControlState, type ControlCommand, type ControlResult, type ControlState } from './domain/control-state';

/** Entries and snapshots carry a version so their shape can evolve (upcast on read). */
export const CONTROL_ENTRY_VERSION = 1;
export const CONTROL_SNAPSHOT_VERSION = 1;

export interface AppliedControl {
  readonly index: number;
  readonly result: ControlResult;
}

export function encodeControlCommand(command: ControlCommand): string {
  return JSON.stringify({ v: CONTROL_ENTRY_VERSION, command });
}

/** The control group's state as the Raft driver's state machine; listeners hear every applied command. */
export class ControlReplica implements ReplicatedStateMachine<AppliedControl> {
  private current: ControlState;
  private appliedIndex = 0;
  private readonly listeners = new Set<(command: ControlCommand, result: ControlResult, index: number) => void>();

  constructor(voters: readonly string[]) {
    this.current = initialControlState(voters);
  }

  get state(): ControlState {
    return this.current;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  onApplied(listener: (command: ControlCommand, result: ControlResult, index: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(entry: Entry): AppliedControl {
    this.appliedIndex = Math.max(this.appliedIndex, entry.index);
    // Empty entries are a new leader's no-op; conf changes belong to Raft.
    if (entry.kind !== 'normal' || entry.data === '') return { index: entry.index, result: { ok: true } };
    const record = JSON.parse(entry.data) as { v: number; command: ControlCommand };
    if (record.v !== CONTROL_ENTRY_VERSION) throw new Error(`control log entry ${entry.index} has unknown version ${record.v}`);
    const { state, result } = applyControlCommand(this.current, record.command);
    this.current = state;
    for (const l of this.listeners) l(record.command, result, entry.index);
    return { index: entry.index, result };
  }

  restore(snapshot: Snapshot): void {
    const record = JSON.parse(snapshot.data) as { v: number; state: ControlState };
    if (record.v !== CONTROL_SNAPSHOT_VERSION) throw new Error(`control snapshot has unknown version ${record.v}`);
    // The voters are the configuration's, not the snapshot's: a group that grew keeps its buckets.
    this.current = { ...record.state, voters: this.current.voters };
    this.appliedIndex = Math.max(this.appliedIndex, snapshot.metadata.index);
  }

  snapshotData(): string {
    return JSON.stringify({ v: CONTROL_SNAPSHOT_VERSION, state: this.current });
  }
}
