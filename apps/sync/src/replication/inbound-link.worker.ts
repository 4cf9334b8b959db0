import type { NatsConnectionManager } from '@cairn/messaging';
import { subjectsFor, type ReplicationLinkStatus } from '@cairn/protocol';
import type { NamedWorker, WorkerStatus } from '@cairn/service-kit';
import type { JetStreamManager } from 'nats';
import {
  assessInboundLink,
  initialInboundLink,
  isSourceConnected,
  type InboundLinkMemory,
  type InboundLinkObservation,
  type PeerAnswer,
} from './inbound-link-state';
import { ensureInboundStream, inboundSourceOf, inboundStreamName, jetStreamManager } from './peer-changes';

/** Between two looks at the link. */
export const LINK_CHECK_MS = 2_000;
/** One question to the peer's JetStream across the link. */
const PEER_PROBE_TIMEOUT_MS = 3_000;
const NANOS_PER_MS = 1_000_000;
/** JetStream's code for a stream that does not exist. */
const STREAM_NOT_FOUND = 10059;

export interface InboundLinkLog {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Watches one peer's inbound link — this region's copy of the peer's META, sourced by JetStream —
 * tells its true state (connected, the peer unreachable, the peer not started, a source that stays
 * silent though the peer answers) with the last error, and redials a silent source with back-off
 * (inbound-link-state.ts says why). The inbound stream itself is made by the PeerReplicator.
 */
export class InboundLinkWorker implements NamedWorker {
  readonly name: string;
  private memory: InboundLinkMemory = initialInboundLink();
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private checks = 0;

  constructor(
    readonly peer: string,
    private readonly nats: NatsConnectionManager,
    private readonly namespace: string,
    private readonly log: InboundLinkLog,
    private readonly now: () => number = Date.now,
  ) {
    this.name = `replication-link-${peer}`;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), LINK_CHECK_MS);
    this.timer.unref();
    void this.check();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  get connected(): boolean {
    return this.memory.state === 'connected';
  }

  view(): ReplicationLinkStatus {
    const m = this.memory;
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      state: m.state,
      lastError: m.lastError,
      lastErrorAt: iso(m.lastErrorAtMs),
      lastConnectedAt: iso(m.lastConnectedAtMs),
      redials: m.redials,
    };
  }

  status(): WorkerStatus {
    const view = this.view();
    return {
      name: this.name,
      state: this.timer ? (this.connected ? 'idle' : 'failed') : 'stopped',
      runs: this.checks,
      ...(view.lastError === null ? {} : { lastError: view.lastError, lastErrorAt: view.lastErrorAt ?? undefined }),
      progress: { detail: `${view.state}${view.redials > 0 ? `, ${view.redials} redials` : ''}` },
    };
  }

  /** One look at the link (and a redial when due); never two at once. */
  check(): Promise<void> {
    this.inFlight ??= this.checkOnce().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async checkOnce(): Promise<void> {
    const observation = await this.observe();
    const before = this.memory;
    const { memory, redial } = assessInboundLink(before, observation);
    this.memory = memory;
    this.checks += 1;
    if (memory.state !== before.state) {
      const message = `link from ${this.peer}: ${before.state} -> ${memory.state}${memory.state === 'connected' || memory.lastError === null ? '' : ` (${memory.lastError})`}`;
      if (memory.state === 'connected') this.log.log(message);
      else this.log.warn(message);
    }
    if (!redial) return;
    this.log.warn(`link from ${this.peer}: redialling its source (redial ${memory.redials}; ${memory.lastError})`);
    try {
      await this.redial();
    } catch (error) {
      this.memory = { ...this.memory, lastError: `redial failed: ${messageOf(error)}`, lastErrorAtMs: this.now() };
    }
  }

  private async observe(): Promise<InboundLinkObservation> {
    const stream = inboundStreamName(this.namespace, this.peer);
    let jsm: JetStreamManager;
    let sourceSilentMs: number | null;
    let sourceError: string | null;
    try {
      jsm = await jetStreamManager(this.nats);
      const info = await jsm.streams.info(stream);
      // A redial cut short (this region's NATS away in between) left the copy without its source.
      if (!info.config.sources?.some((s) => s.name === this.peerStream)) await ensureInboundStream(jsm, this.namespace, this.peer);
      const source = info.sources?.find((s) => s.name === this.peerStream);
      sourceSilentMs = source && source.active >= 0 ? source.active / NANOS_PER_MS : null;
      sourceError = source?.error ? (source.error.description ?? JSON.stringify(source.error)) : null;
    } catch (error) {
      return { kind: 'local-unavailable', atMs: this.now(), detail: `this region's copy ${stream} cannot be read: ${messageOf(error)}` };
    }
    const peer: PeerAnswer = isSourceConnected(sourceSilentMs) ? { kind: 'not-asked' } : await this.askPeer();
    return { kind: 'observed', atMs: this.now(), sourceSilentMs, sourceError, peer };
  }

  private get peerStream(): string {
    return subjectsFor(this.namespace).streamName('META');
  }

  /** The peer's META, asked of the peer's JetStream domain across the link. */
  private async askPeer(): Promise<PeerAnswer> {
    try {
      const nc = await this.nats.connection();
      const peerJsm = await nc.jetstreamManager({ domain: this.peer, timeout: PEER_PROBE_TIMEOUT_MS, checkAPI: false });
      await peerJsm.streams.info(this.peerStream);
      return { kind: 'answers' };
    } catch (error) {
      if ((error as { api_error?: { err_code?: number } }).api_error?.err_code === STREAM_NOT_FOUND) {
        return { kind: 'no-stream', detail: `${this.peer} has no ${this.peerStream} stream yet (its services have not started)` };
      }
      return { kind: 'no-answer', detail: `${this.peer}'s JetStream does not answer across the link: ${messageOf(error)}` };
    }
  }

  /**
   * A new set-up of the source: removed, then added back as it was. JetStream resumes a source it
   * is given after the last message it already holds from it, so nothing is sourced twice. (A
   * stream left without sources gets a subject of its own name for that moment; it is removed with
   * the source's return.)
   */
  async redial(): Promise<void> {
    const jsm = await jetStreamManager(this.nats);
    const stream = inboundStreamName(this.namespace, this.peer);
    await jsm.streams.update(stream, { sources: [] });
    await jsm.streams.update(stream, { subjects: [], sources: [inboundSourceOf(this.namespace, this.peer)] });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
