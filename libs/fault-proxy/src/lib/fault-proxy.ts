import * as net from 'node:net';

/**
 * A TCP proxy with one listener per named link (listen port → target host:port) whose faults can
 * be changed while it runs: cut (open connections are reset, new ones refused), latency (every
 * chunk held back that long, in order) and throttle (bytes paced to a rate). The regions on one
 * machine talk only through it (docs/regions.md), so tests and people can make partitions.
 */

/** Longest latency a link accepts. */
export const MAX_LATENCY_MS = 60_000;
/** Highest throttle a link accepts (10 GB/s: far above anything loopback does). */
export const MAX_BYTES_PER_SECOND = 10_000_000_000;
/** Bytes held for one direction of one connection before the sender is paused. */
export const MAX_QUEUED_BYTES = 1024 * 1024;
/** A throttled direction sends at most this many slices a second (each rate / this, ≥ MIN_SLICE_BYTES). */
const THROTTLE_SLICES_PER_SECOND = 20;
const MIN_SLICE_BYTES = 64;
const LINK_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export interface LinkSpec {
  /** e.g. region-2: the name the control API and the CLI use. */
  readonly name: string;
  /** Defaults to 127.0.0.1. */
  readonly listenHost?: string;
  /** 0 picks a free port (see status().listen.port once started). */
  readonly listenPort: number;
  readonly targetHost: string;
  readonly targetPort: number;
}

export interface LinkFaults {
  readonly cut: boolean;
  readonly latencyMs: number;
  /** 0: not throttled. */
  readonly bytesPerSecond: number;
}

export interface LinkStatus extends LinkFaults {
  readonly name: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly target: { readonly host: string; readonly port: number };
  readonly openConnections: number;
  readonly acceptedConnections: number;
  /** Connections reset because the link was cut (when they arrived or while they were open). */
  readonly resetConnections: number;
  /** Bytes delivered from the connecting side to the target, and back. */
  readonly bytesToTarget: number;
  readonly bytesFromTarget: number;
}

export interface FaultProxyOptions {
  /**
   * Only loopback addresses (127.0.0.0/8, ::1, localhost) may be listened on or forwarded to unless
   * this is set, which only the container layout does (docker/compose.regions.yml).
   */
  readonly allowNonLoopback?: boolean;
}

export class FaultProxyError extends Error {
  constructor(
    readonly code: 'NO_SUCH_LINK' | 'INVALID_LINK' | 'INVALID_FAULT',
    message: string,
  ) {
    super(message);
  }
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const NO_FAULTS: LinkFaults = { cut: false, latencyMs: 0, bytesPerSecond: 0 };

/** One direction of one proxied connection: holds chunks for the latency and paces them for the throttle. */
class FaultyPipe {
  private readonly queue: { chunk: Buffer; releaseAt: number }[] = [];
  private queuedBytes = 0;
  private busyUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;
  private ended = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly faults: () => LinkFaults,
    private readonly delivered: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
    from.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  /** Data taken in and not yet handed to the other side. */
  get pending(): boolean {
    return this.queue.length > 0 || this.waitingForDrain;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private push(chunk: Buffer): void {
    const { latencyMs, bytesPerSecond } = this.faults();
    const releaseAt = Date.now() + latencyMs;
    const slice = bytesPerSecond > 0 ? Math.max(MIN_SLICE_BYTES, Math.floor(bytesPerSecond / THROTTLE_SLICES_PER_SECOND)) : chunk.length;
    for (let offset = 0; offset < chunk.length; offset += slice) {
      this.queue.push({ chunk: chunk.subarray(offset, offset + slice), releaseAt });
    }
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.from.pause();
    this.pump();
  }

  private pump(): void {
    if (this.timer || this.waitingForDrain || this.to.destroyed) return;
    while (this.queue.length > 0) {
      const now = Date.now();
      const head = this.queue[0];
      const { bytesPerSecond } = this.faults();
      const sendAt = Math.max(head.releaseAt, bytesPerSecond > 0 ? this.busyUntil : 0);
      if (sendAt > now) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, sendAt - now);
        return;
      }
      this.queue.shift();
      this.queuedBytes -= head.chunk.length;
      if (bytesPerSecond > 0) this.busyUntil = Math.max(this.busyUntil, now) + (head.chunk.length * 1000) / bytesPerSecond;
      const flushed = this.to.write(head.chunk);
      this.delivered(head.chunk.length);
      if (!flushed) {
        this.waitingForDrain = true;
        this.to.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.queuedBytes <= MAX_QUEUED_BYTES / 2 && this.from.isPaused()) this.from.resume();
    if (this.ended && this.queue.length === 0) this.to.end();
  }
}

class Connection {
  private readonly pipes: FaultyPipe[];

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    link: Link,
    onClose: (connection: Connection) => void,
  ) {
    const faults = () => link.faults;
    this.pipes = [
      new FaultyPipe(client, upstream, faults, (n) => (link.bytesToTarget += n)),
      new FaultyPipe(upstream, client, faults, (n) => (link.bytesFromTarget += n)),
    ];
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.destroy(false);
      onClose(this);
    };
    [client, upstream].forEach((socket, i) => {
      socket.setNoDelay(true);
      socket.on('error', close);
      // A side that closed cleanly may still have data on its way out (held for latency or
      // throttle): that pipe ends the other side once it has delivered it, whose close then follows.
      socket.on('close', (hadError) => {
        if (hadError || !this.pipes[i].pending || [client, upstream][1 - i].destroyed) close();
      });
    });
  }

  /** reset: an RST on both sides (a cut); otherwise a plain close. */
  destroy(reset: boolean): void {
    for (const pipe of this.pipes) pipe.stop();
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      if (reset && typeof socket.resetAndDestroy === 'function' && socket.readyState !== 'opening') socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

class Link {
  faults: LinkFaults = NO_FAULTS;
  readonly connections = new Set<Connection>();
  acceptedConnections = 0;
  resetConnections = 0;
  bytesToTarget = 0;
  bytesFromTarget = 0;
  readonly server: net.Server;

  constructor(readonly spec: Required<LinkSpec>) {
    this.server = net.createServer({ noDelay: true }, (client) => this.accept(client));
  }

  private accept(client: net.Socket): void {
    this.acceptedConnections += 1;
    if (this.faults.cut) {
      this.resetConnections += 1;
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: this.spec.targetHost, port: this.spec.targetPort });
    const connection = new Connection(client, upstream, this, (c) => this.connections.delete(c));
    this.connections.add(connection);
  }

  cutOpenConnections(): void {
    for (const connection of this.connections) {
      this.resetConnections += 1;
      connection.destroy(true);
    }
    this.connections.clear();
  }

  status(): LinkStatus {
    const address = this.server.address();
    return {
      name: this.spec.name,
      listen: { host: this.spec.listenHost, port: address && typeof address === 'object' ? address.port : this.spec.listenPort },
      target: { host: this.spec.targetHost, port: this.spec.targetPort },
      ...this.faults,
      openConnections: this.connections.size,
      acceptedConnections: this.acceptedConnections,
      resetConnections: this.resetConnections,
      bytesToTarget: this.bytesToTarget,
      bytesFromTarget: this.bytesFromTarget,
    };
  }
}

export class FaultProxy {
  private readonly links = new Map<string, Link>();

  constructor(private readonly options: FaultProxyOptions = {}) {}

  /** Adds a link and starts listening on its port. */
  async addLink(spec: LinkSpec): Promise<LinkStatus> {
    const full: Required<LinkSpec> = { listenHost: '127.0.0.1', ...spec };
    if (!LINK_NAME_PATTERN.test(full.name)) throw new FaultProxyError('INVALID_LINK', `link name "${full.name}" must be 1-64 letters, digits, "_", "-" or "."`);
    if (this.links.has(full.name)) throw new FaultProxyError('INVALID_LINK', `link "${full.name}" exists already`);
    for (const host of [full.listenHost, full.targetHost]) {
      if (!this.options.allowNonLoopback && !isLoopbackHost(host)) {
        throw new FaultProxyError('INVALID_LINK', `link "${full.name}": ${host} is not a loopback address (127.0.0.0/8); only loopback is proxied here`);
      }
    }
    for (const port of [full.listenPort, full.targetPort]) {
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new FaultProxyError('INVALID_LINK', `link "${full.name}": port ${port} is not a TCP port`);
    }
    const link = new Link(full);
    await new Promise<void>((resolve, reject) => {
      link.server.once('error', reject);
      link.server.listen(full.listenPort, full.listenHost, () => {
        link.server.off('error', reject);
        resolve();
      });
    });
    this.links.set(full.name, link);
    return link.status();
  }

  list(): LinkStatus[] {
    return [...this.links.values()].map((link) => link.status());
  }

  status(name: string): LinkStatus {
    return this.link(name).status();
  }

  /** Resets every open connection of the link and refuses (resets) new ones until healed. */
  cut(name: string): LinkStatus {
    const link = this.link(name);
    link.faults = { ...link.faults, cut: true };
    link.cutOpenConnections();
    return link.status();
  }

  heal(name: string): LinkStatus {
    const link = this.link(name);
    link.faults = { ...link.faults, cut: false };
    return link.status();
  }

  /** Every chunk, each way, is delivered this much later (0: none). Applies to data sent from now on. */
  setLatency(name: string, latencyMs: number): LinkStatus {
    if (!Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > MAX_LATENCY_MS) {
      throw new FaultProxyError('INVALID_FAULT', `latency must be a whole number of milliseconds from 0 to ${MAX_LATENCY_MS}`);
    }
    const link = this.link(name);
    link.faults = { ...link.faults, latencyMs };
    return link.status();
  }

  /** Each direction of each connection is paced to this many bytes a second (0: no limit). */
  setThrottle(name: string, bytesPerSecond: number): LinkStatus {
    if (!Number.isInteger(bytesPerSecond) || bytesPerSecond < 0 || bytesPerSecond > MAX_BYTES_PER_SECOND) {
      throw new FaultProxyError('INVALID_FAULT', `bytesPerSecond must be a whole number from 0 (no limit) to ${MAX_BYTES_PER_SECOND}`);
    }
    const link = this.link(name);
    link.faults = { ...link.faults, bytesPerSecond };
    return link.status();
  }

  /** No faults left on the link: healed, no latency, no throttle. */
  reset(name: string): LinkStatus {
    const link = this.link(name);
    link.faults = NO_FAULTS;
    return link.status();
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.links.values()].map(async (link) => {
        link.cutOpenConnections();
        await new Promise<void>((resolve) => link.server.close(() => resolve()));
      }),
    );
    this.links.clear();
  }

  private link(name: string): Link {
    const link = this.links.get(name);
    if (!link) throw new FaultProxyError('NO_SUCH_LINK', `no link named "${name}" (links: ${[...this.links.keys()].join(', ') || 'none'})`);
    return link;
  }
}
