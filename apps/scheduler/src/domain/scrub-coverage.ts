/**
 * A scrub walks a node's chunks in hash order, pass after pass. Where it has been and when is
 * kept as checkpoints (cursor, time, bytes so far), so "how much of this node was verified in
 * the last N days" and "how old is the least recently verified chunk" can be answered from two
 * passes: the current one up to its cursor, the previous one beyond it.
 */
export interface ScrubCheckpoint {
  /** The last hash verified by then ('' before the first). */
  readonly cursor: string;
  readonly atMs: number;
  readonly verifiedBytes: number;
}

export interface ScrubPass {
  readonly startedAtMs: number;
  readonly cursor: string;
  readonly verifiedBytes: number;
  readonly verifiedChunks: number;
  readonly corruptFound: number;
  readonly finishedAtMs: number | null;
  readonly checkpoints: readonly ScrubCheckpoint[];
  /** Checkpoints before the last are at least this many bytes apart; doubled whenever they fill up. */
  readonly checkpointSpacingBytes: number;
}

export interface ScrubNodeState {
  readonly nodeId: string;
  readonly current: ScrubPass;
  readonly previous: ScrubPass | null;
  /** Set by "scrub now": run at the fastest allowed rate until this pass ends. */
  readonly urgent: boolean;
  /** Corrupt chunks found on this node over all passes. */
  readonly corruptFoundTotal: number;
}

/** Checkpoints kept per pass; past it every other one is dropped (coverage is then exact to within their spacing). */
export const SCRUB_CHECKPOINTS_MAX = 128;

export function newPass(startedAtMs: number): ScrubPass {
  return {
    startedAtMs,
    cursor: '',
    verifiedBytes: 0,
    verifiedChunks: 0,
    corruptFound: 0,
    finishedAtMs: null,
    checkpoints: [{ cursor: '', atMs: startedAtMs, verifiedBytes: 0 }],
    checkpointSpacingBytes: 1,
  };
}

export function initialScrubState(nodeId: string, nowMs: number): ScrubNodeState {
  return { nodeId, current: newPass(nowMs), previous: null, urgent: false, corruptFoundTotal: 0 };
}

/**
 * A pass starts once the period since the previous one began has gone by (at once when urgent):
 * a node whose bytes take less than a period at the floor pace is not scrubbed over and over.
 */
export function passIsDue(state: ScrubNodeState, periodMs: number, nowMs: number): boolean {
  if (state.urgent || state.current.verifiedChunks > 0 || state.current.cursor !== '') return true;
  return state.previous === null || nowMs - state.previous.startedAtMs >= periodMs;
}

/** One verify step's result applied; a step that reached the end closes the pass and opens the next. */
export function advanceScrub(
  state: ScrubNodeState,
  step: { readonly verifiedCount: number; readonly verifiedBytes: number; readonly corruptCount: number; readonly nextAfter: string | null },
  nowMs: number,
): ScrubNodeState {
  const pass = state.current;
  const verifiedBytes = pass.verifiedBytes + step.verifiedBytes;
  const cursor = step.nextAfter ?? '\uffff';
  const { checkpoints, spacingBytes } = withCheckpoint(pass.checkpoints, pass.checkpointSpacingBytes, { cursor, atMs: nowMs, verifiedBytes });
  const advanced: ScrubPass = {
    ...pass,
    checkpointSpacingBytes: spacingBytes,
    cursor,
    verifiedBytes,
    verifiedChunks: pass.verifiedChunks + step.verifiedCount,
    corruptFound: pass.corruptFound + step.corruptCount,
    checkpoints,
  };
  const corruptFoundTotal = state.corruptFoundTotal + step.corruptCount;
  if (step.nextAfter !== null) return { ...state, current: advanced, corruptFoundTotal };
  return { nodeId: state.nodeId, previous: { ...advanced, finishedAtMs: nowMs }, current: newPass(nowMs), urgent: false, corruptFoundTotal };
}

export interface ScrubCoverage {
  /** Share of the node's bytes verified within the window (0..1). */
  readonly coveredFraction: number;
  readonly coveredBytes: number;
  /**
   * When the least recently verified chunk was verified at the latest; null when some chunks
   * have not been verified by any scrub pass yet (only by the hash check on their write).
   */
  readonly oldestVerifiedAtMs: number | null;
}

export function scrubCoverage(state: ScrubNodeState, nodeBytes: number, windowMs: number, nowMs: number): ScrubCoverage {
  const since = nowMs - windowMs;
  const current = state.current;
  let covered = current.verifiedBytes - bytesVerifiedBy(current, since);
  const previous = state.previous;
  let oldestVerifiedAtMs: number | null = null;
  if (previous) {
    // Beyond the current cursor, chunks were last verified by the previous pass.
    const atCursor = bytesVerifiedUpTo(previous, current.cursor);
    covered += Math.max(0, previous.verifiedBytes - Math.max(atCursor, bytesVerifiedBy(previous, since)));
    oldestVerifiedAtMs = timeReached(previous, current.cursor);
  }
  const coveredFraction = nodeBytes <= 0 ? 1 : Math.min(1, covered / nodeBytes);
  return { coveredFraction, coveredBytes: covered, oldestVerifiedAtMs };
}

/**
 * Bytes verified before `atMs`. A step is short (one tick), so its bytes count at its
 * checkpoint's time; once checkpoints are thinned, to within the spacing of those kept.
 */
function bytesVerifiedBy(pass: ScrubPass, atMs: number): number {
  let bytes = 0;
  for (const c of pass.checkpoints) if (c.atMs < atMs) bytes = c.verifiedBytes;
  return bytes;
}

/** Bytes verified up to `cursor`, by the last checkpoint at or before it. */
function bytesVerifiedUpTo(pass: ScrubPass, cursor: string): number {
  let bytes = 0;
  for (const c of pass.checkpoints) if (c.cursor <= cursor) bytes = c.verifiedBytes;
  return bytes;
}

/** No later than this, the pass had verified every chunk up to `cursor` and the one after it. */
function timeReached(pass: ScrubPass, cursor: string): number {
  // The chunk after `cursor` was verified after the last checkpoint at or before it: that is its oldest possible time.
  let atMs = pass.startedAtMs;
  for (const c of pass.checkpoints) if (c.cursor <= cursor) atMs = c.atMs;
  return atMs;
}

/**
 * Appends a checkpoint, keeping them evenly spread by bytes: the last one always moves with the
 * pass; the ones before it are at least `spacingBytes` apart, and when they fill up every other
 * one goes and the spacing doubles.
 */
function withCheckpoint(checkpoints: readonly ScrubCheckpoint[], spacingBytes: number, next: ScrubCheckpoint): { checkpoints: ScrubCheckpoint[]; spacingBytes: number } {
  const fixed = checkpoints.length > 1 ? checkpoints.slice(0, -1) : [...checkpoints];
  const last = checkpoints.length > 1 ? checkpoints[checkpoints.length - 1] : null;
  if (last && last.verifiedBytes - fixed[fixed.length - 1].verifiedBytes >= spacingBytes) fixed.push(last);
  let spacing = spacingBytes;
  let kept = fixed;
  while (kept.length + 1 > SCRUB_CHECKPOINTS_MAX) {
    kept = kept.filter((_, i) => i % 2 === 0);
    spacing *= 2;
  }
  return { checkpoints: [...kept, next], spacingBytes: spacing };
}

/**
 * The pace that verifies the node's bytes once per period, never slower than the floor; an
 * urgent ("scrub now") pass runs at the ceiling.
 */
export function scrubRateBytesPerSecond(nodeBytes: number, periodMs: number, floorBytesPerSecond: number, ceilingBytesPerSecond: number, urgent: boolean): number {
  if (urgent) return ceilingBytesPerSecond;
  const due = nodeBytes / (periodMs / 1000);
  return Math.min(ceilingBytesPerSecond, Math.max(floorBytesPerSecond, due));
}
