import { connect, type NatsConnection, type Subscription } from 'nats';
import type { Message, NodeId } from '@cairn/consensus';
import { subjectsFor } from '@cairn/protocol';
import type { RaftTransport } from './raft-transport.port';

export interface NatsRaftTransportOptions {
  readonly servers: string;
  readonly namespace: string;
  readonly group: string;
  readonly node: NodeId;
}

/**
 * Raft over core NATS (no JetStream: Raft has its own retries, and a stale message is harmless).
 * Each node listens on `subjectsFor(ns).raft(group, node)` and publishes to its peers' subjects.
 */
export class NatsRaftTransportAdapter implements RaftTransport {
  private handler: ((message: Message) => void) | undefined;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly subjects: ReturnType<typeof subjectsFor>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
    private readonly options: NatsRaftTransportOptions,
  ) {
    this.subjects = subjectsFor(options.namespace);
    void this.pump();
  }

  static async connect(options: NatsRaftTransportOptions): Promise<NatsRaftTransportAdapter> {
    const nc = await connect({ servers: options.servers, name: `raft-${options.group}-${options.node}` });
    const sub = nc.subscribe(subjectsFor(options.namespace).raft(options.group, options.node));
    await nc.flush();
    return new NatsRaftTransportAdapter(nc, sub, options);
  }

  send(messages: readonly Message[]): void {
    if (this.nc.isClosed()) return;
    for (const m of messages) {
      this.nc.publish(this.subjects.raft(this.options.group, m.to), this.encoder.encode(JSON.stringify(m)));
    }
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private async pump(): Promise<void> {
    for await (const msg of this.sub) {
      let message: Message;
      try {
        message = JSON.parse(this.decoder.decode(msg.data)) as Message;
      } catch {
        continue; // Not ours to crash on: a malformed message is dropped like a lost one.
      }
      if (message.to === this.options.node) this.handler?.(message);
    }
  }
}
