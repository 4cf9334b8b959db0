/**
 * A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks"): timestamps stay close to
 * physical time yet respect causality across nodes whose clocks disagree. Physical time comes in
 * as an argument; this module reads no clock.
 */
export interface HlcTimestamp {
  readonly wallMs: number;
  readonly logical: number;
}

const WALL_HEX_DIGITS = 12;
const LOGICAL_HEX_DIGITS = 8;
/** 2^48 ms reaches the year 10889; the encoding has 12 hex digits for it. */
export const HLC_MAX_WALL_MS = 2 ** (WALL_HEX_DIGITS * 4) - 1;
export const HLC_MAX_LOGICAL = 2 ** (LOGICAL_HEX_DIGITS * 4) - 1;
/** A remote timestamp further ahead of our physical clock than this is refused, not adopted. */
export const HLC_DEFAULT_MAX_DRIFT_MS = 60_000;
const ENCODED_PATTERN = /^[0-9a-f]{12}-[0-9a-f]{8}$/;

export const HLC_ZERO: HlcTimestamp = { wallMs: 0, logical: 0 };

export class HlcDriftError extends Error {
  readonly code = 'HLC_DRIFT';
  constructor(
    readonly remote: HlcTimestamp,
    readonly physicalMs: number,
    readonly maxDriftMs: number,
  ) {
    super(`remote clock ${encodeHlc(remote)} is ${remote.wallMs - physicalMs} ms ahead of ours (limit ${maxDriftMs} ms)`);
    this.name = 'HlcDriftError';
  }
}

function assertTimestamp(t: HlcTimestamp): void {
  if (!Number.isSafeInteger(t.wallMs) || t.wallMs < 0 || t.wallMs > HLC_MAX_WALL_MS) throw new RangeError(`HLC wall time ${t.wallMs} out of range`);
  if (!Number.isSafeInteger(t.logical) || t.logical < 0 || t.logical > HLC_MAX_LOGICAL) throw new RangeError(`HLC logical ${t.logical} out of range`);
}

/** Fixed-width lowercase hex, so that string order is timestamp order. */
export function encodeHlc(t: HlcTimestamp): string {
  assertTimestamp(t);
  return `${t.wallMs.toString(16).padStart(WALL_HEX_DIGITS, '0')}-${t.logical.toString(16).padStart(LOGICAL_HEX_DIGITS, '0')}`;
}

export function decodeHlc(encoded: string): HlcTimestamp {
  if (!ENCODED_PATTERN.test(encoded)) throw new RangeError(`"${encoded}" is not an encoded HLC timestamp`);
  return { wallMs: parseInt(encoded.slice(0, WALL_HEX_DIGITS), 16), logical: parseInt(encoded.slice(WALL_HEX_DIGITS + 1), 16) };
}

export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): -1 | 0 | 1 {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return 0;
}

export class HybridLogicalClock {
  private last: HlcTimestamp;

  constructor(
    start: HlcTimestamp = HLC_ZERO,
    private readonly maxDriftMs: number = HLC_DEFAULT_MAX_DRIFT_MS,
  ) {
    assertTimestamp(start);
    this.last = start;
  }

  get current(): HlcTimestamp {
    return this.last;
  }

  /** A timestamp for a local event or a message we send. */
  now(physicalMs: number): HlcTimestamp {
    const wallMs = Math.max(this.last.wallMs, Math.floor(physicalMs));
    const logical = wallMs === this.last.wallMs ? this.last.logical + 1 : 0;
    return this.advanceTo({ wallMs, logical });
  }

  /** Merge a timestamp we received: the result is after both it and everything we issued. */
  receive(remote: HlcTimestamp, physicalMs: number): HlcTimestamp {
    assertTimestamp(remote);
    const physical = Math.floor(physicalMs);
    if (remote.wallMs - physical > this.maxDriftMs) throw new HlcDriftError(remote, physical, this.maxDriftMs);
    const wallMs = Math.max(this.last.wallMs, remote.wallMs, physical);
    let logical: number;
    if (wallMs === this.last.wallMs && wallMs === remote.wallMs) logical = Math.max(this.last.logical, remote.logical) + 1;
    else if (wallMs === this.last.wallMs) logical = this.last.logical + 1;
    else if (wallMs === remote.wallMs) logical = remote.logical + 1;
    else logical = 0;
    return this.advanceTo({ wallMs, logical });
  }

  private advanceTo(next: HlcTimestamp): HlcTimestamp {
    assertTimestamp(next);
    if (compareHlc(next, this.last) <= 0) {
      throw new Error(`HLC invariant broken: ${encodeHlc(next)} does not follow ${encodeHlc(this.last)}`);
    }
    this.last = next;
    return next;
  }
}
