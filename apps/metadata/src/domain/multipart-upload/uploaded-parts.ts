/** What UploadedParts needs of a part: its number. */
export interface NumberedPart {
  readonly partNumber: number;
  readonly chunks: readonly unknown[];
}

/** The parts as uploaded, in upload order, shared by the values that see a prefix of it. */
interface PartLog<P> {
  readonly entries: P[];
  /** Each part number's positions in `entries`, ascending. */
  readonly positions: Map<number, number[]>;
}

/**
 * An upload's parts by number (a re-uploaded part replaces the earlier one), immutable from the
 * outside: `with` answers a new value and leaves this one as it was. Adding a part is O(1)
 * amortised, where copying a map per part made folding n parts O(n²): every value is a prefix of
 * one shared log, and `with` on the value that sees the whole log (the newest, the fold's usual
 * case) just appends to it; `with` on an older value copies the prefix it sees into a log of its
 * own first (O(n), and only when a state is extended twice).
 */
export class UploadedParts<P extends NumberedPart> {
  private constructor(
    private readonly log: PartLog<P>,
    /** How many entries of the log this value sees. */
    private readonly seen: number,
    /** Chunks of the parts seen, replaced ones included: what this value holds in memory. */
    readonly chunks: number,
  ) {}

  static empty<P extends NumberedPart>(): UploadedParts<P> {
    return new UploadedParts<P>({ entries: [], positions: new Map() }, 0, 0);
  }

  static of<P extends NumberedPart>(parts: Iterable<P>): UploadedParts<P> {
    let value = UploadedParts.empty<P>();
    for (const part of parts) value = value.with(part);
    return value;
  }

  /** The part uploaded last under this number, if any. */
  get(partNumber: number): P | undefined {
    const at = this.positionOf(partNumber);
    return at === undefined ? undefined : this.log.entries[at];
  }

  /** This value with `part` added (replacing one of the same number). */
  with(part: P): UploadedParts<P> {
    const log = this.seen === this.log.entries.length ? this.log : this.ownLog();
    const positions = log.positions.get(part.partNumber);
    if (positions) positions.push(log.entries.length);
    else log.positions.set(part.partNumber, [log.entries.length]);
    log.entries.push(part);
    return new UploadedParts(log, this.seen + 1, this.chunks + part.chunks.length);
  }

  /** The parts in force, by ascending part number. */
  inOrder(): P[] {
    const parts: P[] = [];
    for (const partNumber of this.log.positions.keys()) {
      const at = this.positionOf(partNumber);
      if (at !== undefined) parts.push(this.log.entries[at]);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Parts uploaded, re-uploads counted: what this value holds in memory. */
  get uploads(): number {
    return this.seen;
  }

  private positionOf(partNumber: number): number | undefined {
    const positions = this.log.positions.get(partNumber);
    if (!positions) return undefined;
    for (let i = positions.length - 1; i >= 0; i--) if (positions[i] < this.seen) return positions[i];
    return undefined;
  }

  /** A log of this value's own, with just the entries it sees. */
  private ownLog(): PartLog<P> {
    const entries = this.log.entries.slice(0, this.seen);
    const positions = new Map<number, number[]>();
    entries.forEach((part, at) => {
      const known = positions.get(part.partNumber);
      if (known) known.push(at);
      else positions.set(part.partNumber, [at]);
    });
    return { entries, positions };
  }
}
