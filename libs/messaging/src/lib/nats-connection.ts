import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { RECONNECT_WAIT_MS, type MessagingConfig } from './messaging.config';

export type NatsConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * One NATS connection per process, shared by the transport, the publisher, the RPC client and the
 * heartbeat. It never gives up reconnecting: a service whose NATS is away stays up, reports itself
 * unready on /health, and carries on when NATS returns.
 */
export class NatsConnectionManager {
  private state: NatsConnectionState = 'connecting';
  private readonly ready: Promise<NatsConnection>;
  private nc: NatsConnection | undefined;
  private closing = false;
  private jsm: JetStreamManager | undefined;

  constructor(private readonly config: MessagingConfig) {
    this.ready = connect({
      servers: config.natsUrl.split(',').map((s) => s.trim()),
      name: `${config.serviceName}/${config.instance}`,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      pingInterval: 10_000,
    }).then((nc) => {
      this.nc = nc;
      if (this.closing) {
        void nc.close();
        return nc;
      }
      this.state = 'connected';
      void this.watchStatus(nc);
      return nc;
    });
    // The first connect waits for the server forever; callers that need it await `connection()`.
    this.ready.catch(() => undefined);
  }

  get status(): NatsConnectionState {
    return this.state;
  }

  isConnected(): boolean {
    return this.state === 'connected';
  }

  connection(): Promise<NatsConnection> {
    return this.ready;
  }

  /** The connection if it is up now, without waiting. */
  current(): NatsConnection | undefined {
    return this.state === 'connected' ? this.nc : undefined;
  }

  async jetstream(): Promise<JetStreamClient> {
    return (await this.ready).jetstream();
  }

  async jetstreamManager(): Promise<JetStreamManager> {
    if (!this.jsm) this.jsm = await (await this.ready).jetstreamManager();
    return this.jsm;
  }

  /** Round trip to the server: the readiness probe. */
  async ping(timeoutMs: number): Promise<number> {
    const nc = this.current();
    if (!nc) throw new Error(`NATS is ${this.state}`);
    return await Promise.race([
      nc.rtt(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('NATS ping timed out')), timeoutMs).unref()),
    ]);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.state = 'closed';
    const nc = this.nc;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.closing) return;
      if (s.type === 'disconnect' || s.type === 'reconnecting') this.state = 'reconnecting';
      else if (s.type === 'reconnect') this.state = 'connected';
    }
  }
}
