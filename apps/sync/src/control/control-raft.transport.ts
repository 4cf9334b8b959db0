import type { Message } from '@cairn/consensus';
import type { RaftTransport } from '@cairn/consensus-runtime';
import type { MessageAuthenticator, NatsConnectionManager } from '@cairn/messaging';
import { federationSubject, FederationOps, MESSAGE_AUTH_HEADER } from '@cairn/protocol';
import { headers as natsHeaders, type NatsConnection, type Subscription } from 'nats';

/**
 * The control group's Raft messages between regions, on `fed.<region>.control.raft` — the subject
 * family that crosses the federation's links (a region's own `raft` subjects never leave it).
 * Signed with the federation's cluster credentials; a message that fails the check, does not parse,
 * or names a sender outside the group is dropped like a lost one (Raft retries).
 */
export class ControlRaftTransport implements RaftTransport {
  private handler: ((message: Message) => void) | undefined;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
    private readonly namespace: string,
    private readonly self: string,
    private readonly voters: ReadonlySet<string>,
    private readonly authenticator: MessageAuthenticator,
    private readonly onRefused: (reason: string) => void,
  ) {
    void this.pump();
  }

  static async open(
    nats: NatsConnectionManager,
    namespace: string,
    self: string,
    voters: readonly string[],
    authenticator: MessageAuthenticator,
    onRefused: (reason: string) => void,
  ): Promise<ControlRaftTransport> {
    const nc = await nats.connection();
    const sub = nc.subscribe(federationSubject(namespace, self, FederationOps.controlRaft));
    await nc.flush();
    return new ControlRaftTransport(nc, sub, namespace, self, new Set(voters), authenticator, onRefused);
  }

  send(messages: readonly Message[]): void {
    if (this.nc.isClosed()) return;
    for (const m of messages) {
      const subject = federationSubject(this.namespace, m.to, FederationOps.controlRaft);
      const data = this.encoder.encode(JSON.stringify(m));
      const h = natsHeaders();
      h.set(MESSAGE_AUTH_HEADER, this.authenticator.sign(subject, data));
      try {
        this.nc.publish(subject, data, { headers: h });
      } catch {
        // A connection going away: the message is lost, as Raft allows.
      }
    }
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
  }

  private async pump(): Promise<void> {
    for await (const msg of this.sub) {
      const verdict = this.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data);
      if (!verdict.ok) {
        this.onRefused(verdict.reason);
        continue;
      }
      let message: Message;
      try {
        message = JSON.parse(this.decoder.decode(msg.data)) as Message;
      } catch {
        continue;
      }
      if (typeof message !== 'object' || message === null || !this.voters.has(String(message.from)) || message.to !== this.self) {
        this.onRefused(`a control message from ${String((message as { from?: unknown })?.from)} to ${String((message as { to?: unknown })?.to)}`);
        continue;
      }
      this.handler?.(message);
    }
  }
}
