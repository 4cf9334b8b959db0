import type { MessageAuthenticator, NatsConnectionManager } from '@cairn/messaging';
import { MESSAGE_AUTH_HEADER, subjectsFor, type Heartbeat } from '@cairn/protocol';
import { JSONCodec, type Subscription } from 'nats';

/** A heartbeat older than this no longer counts (services beat once a second). */
const FRESH_MS = 10_000;
const codec = JSONCodec<Heartbeat>();

/**
 * What this region tells the others about itself for routing (docs/failover.md): its S3 endpoint
 * (where its access instances say they listen) and its free storage (its storage nodes' free
 * bytes), both from the region's own signed heartbeats.
 */
export class RegionFacts {
  private readonly free = new Map<string, { bytes: number; atMs: number }>();
  private endpoint: { url: string; atMs: number } | null = null;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly region: string,
    private readonly authenticator: MessageAuthenticator,
  ) {}

  async start(): Promise<void> {
    const nc = await this.nats.connection();
    const subjects = subjectsFor(this.namespace);
    for (const service of ['storage', 'access'] as const) {
      this.subscriptions.push(
        nc.subscribe(subjects.heartbeat(this.region, service, '*'), {
          callback: (err, msg) => {
            if (err) return;
            if (!this.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, msg.subject, msg.data).ok) return;
            let beat: Heartbeat;
            try {
              beat = codec.decode(msg.data);
            } catch {
              return;
            }
            if (beat.region !== this.region || beat.service !== service) return;
            const now = Date.now();
            if (service === 'storage' && typeof beat.extra?.['freeBytes'] === 'number') this.free.set(beat.instance, { bytes: beat.extra['freeBytes'], atMs: now });
            if (service === 'access' && typeof beat.url === 'string') this.endpoint = { url: beat.url, atMs: now };
          },
        }),
      );
    }
  }

  stop(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }

  /** The region's S3 endpoint as its access instances announce it; null when none has beaten lately. */
  s3Endpoint(nowMs = Date.now()): string | null {
    return this.endpoint && nowMs - this.endpoint.atMs < FRESH_MS ? this.endpoint.url : null;
  }

  /** Free bytes across the region's storage nodes heard from lately; null when none. */
  freeBytes(nowMs = Date.now()): number | null {
    let total: number | null = null;
    for (const f of this.free.values()) if (nowMs - f.atMs < FRESH_MS) total = (total ?? 0) + f.bytes;
    return total;
  }
}
