import { randomBytes } from 'node:crypto';
import { connect, headers as natsHeaders, type ConnectionOptions, type NatsConnection, type Subscription } from 'nats';
import type { Message, NodeId } from '@cairn/consensus';
import { MESSAGE_AUTH_HEADER, subjectsFor } from '@cairn/protocol';
import { parsePieceHeader, PieceAssembler, pieceHeaderOf, pieceSigningSubject, RAFT_PIECE_HEADER, splitIntoPieces } from './message-pieces';
import type { RaftTransport } from './raft-transport.port';

/** Room kept under the server's max_payload for a piece's headers (signature, piece number). */
const HEADER_ROOM_BYTES = 4 * 1024;
/** NATS's default max_payload, for a server that does not say. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** An unfinished message is dropped after this long without a piece (Raft sends it again). */
const PIECES_STALE_AFTER_MS = 30_000;
/** Most bytes a node holds in unfinished messages from all its peers. */
const MAX_HELD_PIECE_BYTES = 512 * 1024 * 1024;

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
  /** Largest NATS message payload to send; default: the server's max_payload less room for headers. */
  readonly maxMessageBytes?: number;
}

/**
 * Raft over core NATS (no JetStream: Raft has its own retries, and a stale message is harmless).
 * Each node listens on `subjectsFor(ns).raft(group, node)` and publishes to its peers' subjects.
 * Every message is signed with the cluster's NATS key and must come from the node it names: a
 * forged vote or append from anyone on the bus is dropped like a lost message. A message larger
 * than the server takes (a snapshot of a big table) goes in signed pieces (message-pieces.ts).
 */
export class NatsRaftTransportAdapter implements RaftTransport {
  private handler: ((message: Message) => void) | undefined;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly subjects: ReturnType<typeof subjectsFor>;
  private readonly assembler = new PieceAssembler({ staleAfterMs: PIECES_STALE_AFTER_MS, maxHeldBytes: MAX_HELD_PIECE_BYTES });
  /** Piece message ids are this sender's boot id and a counter, so a restart never reuses one. */
  private readonly bootId = randomBytes(6).toString('hex');
  private nextMessageNumber = 0;

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
      const maxBytes = this.maxMessageBytes();
      if (data.length <= maxBytes) {
        const h = natsHeaders();
        h.set(MESSAGE_AUTH_HEADER, this.options.authenticator.sign(subject, data));
        this.nc.publish(subject, data, { headers: h });
        continue;
      }
      const pieces = splitIntoPieces(data, maxBytes);
      const messageId = `${this.bootId}.${this.nextMessageNumber++}`;
      pieces.forEach((piece, index) => {
        const pieceHeader = pieceHeaderOf({ messageId, index, count: pieces.length });
        const h = natsHeaders();
        h.set(RAFT_PIECE_HEADER, pieceHeader);
        h.set(MESSAGE_AUTH_HEADER, this.options.authenticator.sign(pieceSigningSubject(subject, pieceHeader), piece));
        this.nc.publish(subject, piece, { headers: h });
      });
    }
  }

  private maxMessageBytes(): number {
    return this.options.maxMessageBytes ?? Math.max(HEADER_ROOM_BYTES, (this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES) - HEADER_ROOM_BYTES);
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }

  private async pump(): Promise<void> {
    for await (const msg of this.sub) {
      const pieceHeader = msg.headers?.get(RAFT_PIECE_HEADER) || undefined;
      const signedSubject = pieceHeader === undefined ? msg.subject : pieceSigningSubject(msg.subject, pieceHeader);
      const verdict = this.options.authenticator.verify(msg.headers?.get(MESSAGE_AUTH_HEADER) || undefined, signedSubject, msg.data);
      if (!verdict.ok) {
        this.options.onRefused?.(verdict.reason);
        continue;
      }
      let data = msg.data;
      if (pieceHeader !== undefined) {
        const piece = parsePieceHeader(pieceHeader);
        if (!piece) continue; // Signed but not a piece we could have sent: dropped like a lost message.
        const whole = this.assembler.add(verdict.caller, piece, msg.data, Date.now());
        if (!whole) continue;
        data = whole;
      }
      let messages: Message[];
      try {
        const parsed = JSON.parse(this.decoder.decode(data)) as Message | Message[];
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
