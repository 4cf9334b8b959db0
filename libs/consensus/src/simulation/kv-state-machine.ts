import type { ReplicatedStateMachine } from '../driver/raft-loop.port';
import type { Entry, Snapshot } from '../lib/raft.types';

/** A client write as it travels through the log. */
export interface KvCommand {
  readonly op: number;
  readonly key: string;
  readonly value: string;
}

/** 32-bit FNV-1a, chained: two replicas agree on it iff they applied the same entries in order. */
function fnv1a(hash: number, text: string): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const FNV_OFFSET = 0x811c9dc5;

/** The replicated key-value store the simulator runs on top of Raft. */
export class KvStateMachine implements ReplicatedStateMachine<KvCommand | undefined> {
  private readonly data = new Map<string, string>();
  appliedIndex = 0;
  hash = FNV_OFFSET;

  restore(snapshot: Snapshot): void {
    this.data.clear();
    this.appliedIndex = snapshot.metadata.index;
    this.hash = FNV_OFFSET;
    if (snapshot.data === '') return;
    const parsed = JSON.parse(snapshot.data) as { entries: [string, string][]; hash: number };
    for (const [k, v] of parsed.entries) this.data.set(k, v);
    this.hash = parsed.hash;
  }

  /** Applies one committed entry; returns the client command it carried, if any. */
  apply(entry: Entry): KvCommand | undefined {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`applied ${entry.index} after ${this.appliedIndex}: entries must apply in order without gaps`);
    }
    this.appliedIndex = entry.index;
    const text = entry.kind === 'normal' ? entry.data : `conf:${entry.change.type}:${entry.change.nodeId}`;
    this.hash = fnv1a(this.hash, `${entry.index}/${entry.term}/${text};`);
    if (entry.kind !== 'normal' || entry.data === '') return undefined;
    const command = JSON.parse(entry.data) as KvCommand;
    this.data.set(command.key, command.value);
    return command;
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  snapshotData(): string {
    return JSON.stringify({ entries: [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), hash: this.hash });
  }
}
