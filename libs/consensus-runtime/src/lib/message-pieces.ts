/**
 * A Raft message larger than one NATS message (a lock table's snapshot grows with the locks held;
 * nats-server refuses anything over its `max_payload`, 1 MiB by default) travels as numbered
 * pieces, each signed on its own, and is put back together by the receiver. Raft treats a message
 * that never completes like a lost one: the leader sends it again.
 */

/** NATS header of a piece: `<message id> <index> <count>`. */
export const RAFT_PIECE_HEADER = 'Cairn-Raft-Piece';

const PIECE_HEADER_FORMAT = /^([A-Za-z0-9.-]{1,64}) (\d{1,9}) (\d{1,9})$/;
/** More pieces than this is no message of ours (at 1 MiB a piece, a 100 GiB snapshot). */
const MAX_PIECES = 100_000;

export interface PieceOf {
  readonly messageId: string;
  readonly index: number;
  readonly count: number;
}

/** Splits `data` into pieces of at most `pieceBytes` (views, not copies). */
export function splitIntoPieces(data: Uint8Array, pieceBytes: number): Uint8Array[] {
  if (!Number.isInteger(pieceBytes) || pieceBytes < 1) throw new Error(`piece size must be a positive whole number of bytes, not ${pieceBytes}`);
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < data.length; offset += pieceBytes) pieces.push(data.subarray(offset, Math.min(data.length, offset + pieceBytes)));
  return pieces;
}

export function pieceHeaderOf(piece: PieceOf): string {
  return `${piece.messageId} ${piece.index} ${piece.count}`;
}

/** The piece a header names, or undefined for a header that is not one. */
export function parsePieceHeader(header: string): PieceOf | undefined {
  const match = PIECE_HEADER_FORMAT.exec(header);
  if (!match) return undefined;
  const index = Number(match[2]);
  const count = Number(match[3]);
  if (count < 2 || count > MAX_PIECES || index >= count) return undefined;
  return { messageId: match[1], index, count };
}

/**
 * What a piece's signature covers besides its bytes: the subject and the piece header, so a
 * piece cannot be renumbered or moved into another message without the signature failing.
 */
export function pieceSigningSubject(subject: string, pieceHeader: string): string {
  return `${subject}#piece ${pieceHeader}`;
}

interface Assembly {
  readonly count: number;
  readonly pieces: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  touchedAtMs: number;
}

export interface PieceAssemblerOptions {
  /** An unfinished message whose pieces stop coming for this long is dropped. */
  readonly staleAfterMs: number;
  /** Bytes held in unfinished messages at most; beyond it the least recently touched are dropped. */
  readonly maxHeldBytes: number;
}

/** Puts pieces back together, per sender and message id, in any order, within bounded memory. */
export class PieceAssembler {
  private readonly assemblies = new Map<string, Assembly>();
  private heldBytes = 0;

  constructor(private readonly options: PieceAssemblerOptions) {}

  /** The whole message once its last missing piece arrives; undefined until then. */
  add(sender: string, piece: PieceOf, bytes: Uint8Array, nowMs: number): Uint8Array | undefined {
    this.dropStale(nowMs);
    const key = `${sender}\u0000${piece.messageId}`;
    let assembly = this.assemblies.get(key);
    if (assembly && assembly.count !== piece.count) {
      this.drop(key, assembly);
      assembly = undefined;
    }
    if (!assembly) {
      assembly = { count: piece.count, pieces: new Array<Uint8Array | undefined>(piece.count), received: 0, bytes: 0, touchedAtMs: nowMs };
      this.assemblies.set(key, assembly);
    }
    assembly.touchedAtMs = nowMs;
    if (assembly.pieces[piece.index] !== undefined) return undefined;
    // The subscription's buffer may be reused: keep a copy.
    assembly.pieces[piece.index] = Uint8Array.from(bytes);
    assembly.received++;
    assembly.bytes += bytes.length;
    this.heldBytes += bytes.length;
    if (assembly.received === assembly.count) {
      this.drop(key, assembly);
      return concat(assembly.pieces as Uint8Array[], assembly.bytes);
    }
    this.keepWithinBudget(key);
    return undefined;
  }

  /** Unfinished messages held now, and their bytes (for tests and status). */
  holding(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.assemblies.size, bytes: this.heldBytes };
  }

  private dropStale(nowMs: number): void {
    for (const [key, assembly] of this.assemblies) {
      if (nowMs - assembly.touchedAtMs > this.options.staleAfterMs) this.drop(key, assembly);
    }
  }

  /** Drops the least recently touched messages other than `keep` until within budget, then `keep` itself if still over. */
  private keepWithinBudget(keep: string): void {
    if (this.heldBytes <= this.options.maxHeldBytes) return;
    const others = [...this.assemblies].filter(([key]) => key !== keep).sort(([, a], [, b]) => a.touchedAtMs - b.touchedAtMs);
    for (const [key, assembly] of others) {
      if (this.heldBytes <= this.options.maxHeldBytes) return;
      this.drop(key, assembly);
    }
    const kept = this.assemblies.get(keep);
    if (kept && this.heldBytes > this.options.maxHeldBytes) this.drop(keep, kept);
  }

  private drop(key: string, assembly: Assembly): void {
    this.assemblies.delete(key);
    this.heldBytes -= assembly.bytes;
  }
}

function concat(pieces: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const whole = new Uint8Array(totalBytes);
  let offset = 0;
  for (const piece of pieces) {
    whole.set(piece, offset);
    offset += piece.length;
  }
  return whole;
}
