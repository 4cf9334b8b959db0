import type { InstanceHealthEvent } from '@cairn/protocol';

/** The service whose instances are storage nodes (a node's id is its instance name). */
export const STORAGE_NODE_SERVICE = 'storage';

/** What the chunk client asks before sending to a node. */
export interface NodeHealth {
  /** True while monitoring has declared the node down and not yet recovered. */
  isDown(nodeId: string): boolean;
}

/** Every node up: the chunk client without a health feed. */
export const ALL_NODES_UP: NodeHealth = { isDown: () => false };

export interface NodeHealthChange {
  readonly nodeId: string;
  readonly down: boolean;
  /** When the node was last heard, as monitoring recorded it (ms); null when unknown. */
  readonly lastHeartbeatMs: number | null;
}

/**
 * Storage nodes monitoring has declared down (NodeDown on CLUSTER), until it sees them recover
 * (NodeRecovered). A suspicion changes nothing. Fed in stream order by JetStreamNodeHealthFeed;
 * an event older than the last one applied for the node is ignored.
 */
export class NodeHealthView implements NodeHealth {
  private readonly down = new Map<string, number | null>();
  private readonly lastSequence = new Map<string, number>();
  private readonly listeners: ((change: NodeHealthChange) => void)[] = [];

  isDown(nodeId: string): boolean {
    return this.down.has(nodeId);
  }

  /** The nodes down now, with when each was last heard (ms, null when unknown). */
  downNodes(): ReadonlyMap<string, number | null> {
    return this.down;
  }

  /** Called on each change of a node's state (down or back up). */
  onChange(listener: (change: NodeHealthChange) => void): void {
    this.listeners.push(listener);
  }

  /** Applies one instance-health event from CLUSTER; others than storage nodes' are ignored. */
  apply(event: InstanceHealthEvent, sequence: number): void {
    if (event.data.service !== STORAGE_NODE_SERVICE) return;
    const nodeId = event.data.instance;
    const last = this.lastSequence.get(nodeId);
    if (last !== undefined && sequence <= last) return;
    this.lastSequence.set(nodeId, sequence);
    const heardMs = event.data.lastHeartbeatAt ? Date.parse(event.data.lastHeartbeatAt) : NaN;
    const lastHeartbeatMs = Number.isFinite(heardMs) ? heardMs : null;
    if (event.type === 'NodeDown' && !this.down.has(nodeId)) {
      this.down.set(nodeId, lastHeartbeatMs);
      this.emit({ nodeId, down: true, lastHeartbeatMs });
    } else if (event.type === 'NodeRecovered' && this.down.has(nodeId)) {
      this.down.delete(nodeId);
      this.emit({ nodeId, down: false, lastHeartbeatMs });
    }
  }

  private emit(change: NodeHealthChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
