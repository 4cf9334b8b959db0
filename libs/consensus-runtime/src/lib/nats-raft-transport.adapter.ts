import { connect, headers as natsHeaders, type ConnectionOptions, type NatsConnection, type Subscription } from 'nats';
import type { Message, NodeId } from '@cairn/consensus';
import { MESSAGE_AUTH_HEADER, subjectsFor } from '@cairn/protocol';
import type { RaftTransport } from './raft-transport.port';

/** Signs what a node sends and checks what it receives (the service's cluster credentials). */
export interface RaftMessageAuthenticator {
  sign(subject: string, payload: Uint8Array): string;
  verify(header: string | undefined, subject: string, payload: Uint8Array): { readonly ok: true; readonly caller: string } | { readonly ok: false; readonly reason: string };
}

export interface NatsRaftTransportOptions {
  /** nats://host:port, comma-separated for a cluster. */
  readonly servers: string;
  readonly namespace: string;
  readonly group: string;
  readonly node: NodeId;
  readonly authenticator: RaftMessageAuthenticator;
  /** Credentials and TLS for NATS, as the service's own connection uses them. */
  readonly connectOptions?: ConnectionOptions;
  /** Told of each message dropped for a bad signature. */
  readonly onRefused?: (reason: string) => void;
}

/**
 * Raft over core NATS (no JetStream: Raft has its own retries, and a stale message is harmless).
 * Each node listens on `subjectsFor(ns).raft(group, node)` and publishes to its peers' subjects.
 * Every message is signed with the cluster's NATS key and must come from the node it names: a
 * forged vote or append from anyone on the bus is dropped like a lost message.
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
    const nc = await connect({
      ...options.connectOptions,
      servers: options.servers.split(',').map((s) => s.trim()),
      name: `raft-${options.group}-${options.node}`,
    });
    const sub = nc.subscribe(subjectsFor(options.namespace).raft(options.group, options.node));
    await nc.flush();
    return new NatsRaftTransportAdapter(nc, sub, options);
  }

  /**
   * One NATS message per peer: a Ready's messages to the same node travel together (a JSON array),
   * under one signature. A lone message goes as itself, as it always did.
   */
  send(messages: readonly Message[]): void {
    if (this.nc.isClosed()) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const batch = byPeer.get(m.to);
      if (batch) batch.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [to, batch] of byPeer) {
      const subject = this.subjects.raft(this.options.group, to);
      const data = this.encoder.encode(JSON.stringify(batch.length === 1 ? batch[0] : batch));
      const h = natsHeaders();
      h.set(MESSAGE_AUTH_HEADER, this.options.authenticator.sign(subject, data));
      this.nc.publish(subject, data, { headers: h });
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
      const verdict = this.options.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
      if (!verdict.ok) {
        this.options.onRefused?.(verdict.reason);
        continue;
      }
      let messages: Message[];
      try {
        const parsed = JSON.parse(this.decoder.decode(msg.data)) as Message | Message[];
        messages = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        continue; // Not ours to crash on: a malformed message is dropped like a lost one.
      }
      for (const message of messages) {
        if (!verdict.caller.endsWith(`/${String(message?.from)}`)) {
          this.options.onRefused?.(`${verdict.caller} sent a message as ${String(message?.from)}`);
          continue;
        }
        if (message.to === this.options.node) this.handler?.(message);
      }
    }
  }
}
