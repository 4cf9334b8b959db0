import { connect, type ConnectionOptions, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { RECONNECT_WAIT_MS, type MessagingConfig } from './messaging.config';
import { natsSecurityOptions } from './nats-auth';
import { cheapenCancelledRequestErrors, coalesceSocketWrites } from './nats-client-tuning';

// Re-exported here so the package index need not change: config validation uses them.
export { NATS_SECURITY_VARIABLES, natsSecurityProblems } from './nats-auth';

const PING_INTERVAL_MS = 10_000;

/**
 * Where and as whom a connection of this service goes: the servers, a name the server shows in
 * its connection list, and the credentials and TLS of the config (docs/security.md). For any other
 * connection a service opens (Raft's), so that it authenticates the same way.
 */
export function natsConnectOptions(config: MessagingConfig): ConnectionOptions {
  return {
    servers: config.natsUrl.split(',').map((s) => s.trim()),
    name: `${config.serviceName}/${config.instance}`,
    ...natsSecurityOptions(config),
  };
}

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
  private readonly options: ConnectionOptions;
  private lastFailure: string | undefined;

  constructor(private readonly config: MessagingConfig) {
    // Built once: inconsistent credentials throw here, not in the retry loop.
    this.options = natsConnectOptions(config);
    cheapenCancelledRequestErrors();
    coalesceSocketWrites();
    this.ready = this.connectWithRetry();
    // The first connect retries until the server answers; callers that need it await `connection()`.
    this.ready.catch(() => undefined);
  }

  /**
   * nats.js can wait for a first connection by itself, but that wait cannot be cancelled; this
   * loop can, so a service closed while NATS is away leaves no timers behind.
   */
  private async connectWithRetry(): Promise<NatsConnection> {
    for (;;) {
      if (this.closing) throw new Error('NATS connection closed before it was established');
      try {
        const nc = await connect({
          ...this.options,
          maxReconnectAttempts: -1,
          // A refused login (credentials being rotated) is retried like any other failure rather
          // than ending the connection for good after the second refusal.
          ignoreAuthErrorAbort: true,
          reconnectTimeWait: RECONNECT_WAIT_MS,
          pingInterval: PING_INTERVAL_MS,
          // Each request would otherwise capture a stack trace up front, in case it fails: a few
          // per cent of the CPU of a service making thousands of requests a second.
          noAsyncTraces: true,
        });
        this.nc = nc;
        if (this.closing) {
          await nc.close();
          throw new Error('NATS connection closed before it was established');
        }
        this.state = 'connected';
        this.lastFailure = undefined;
        void this.watchStatus(nc);
        return nc;
      } catch (error) {
        if (this.closing) throw error;
        // Kept for /health: a refused login reads "Authorization Violation", not just "connecting".
        this.lastFailure = error instanceof Error ? error.message : String(error);
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_WAIT_MS).unref());
      }
    }
  }

  get status(): NatsConnectionState {
    return this.state;
  }

  /** Why the last attempt to connect failed, while there is no connection yet (no secrets in it). */
  get lastError(): string | undefined {
    return this.state === 'connected' ? undefined : this.lastFailure;
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
    if (!nc) throw new Error(this.lastError ? `NATS is ${this.state} (last attempt: ${this.lastError})` : `NATS is ${this.state}`);
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
      else if (s.type === 'reconnect') {
        this.state = 'connected';
        this.lastFailure = undefined;
      } else if (s.type === 'error' && s.data !== 'PERMISSIONS_VIOLATION') {
        // A refused login while reconnecting (a publish the server refused is the caller's error, not the connection's).
        this.lastFailure = String(s.data);
      }
    }
  }
}
