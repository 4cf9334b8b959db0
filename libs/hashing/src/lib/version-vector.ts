/**
 * Version vectors: a counter per actor (region). Entries at zero are absent, so that two vectors
 * that mean the same history are also equal as data. merge is the join of the lattice:
 * commutative, associative and idempotent (tested as laws).
 */
export type VersionVector = Readonly<Record<string, number>>;

export type VersionOrder = 'before' | 'after' | 'equal' | 'concurrent';

export const EMPTY_VERSION_VECTOR: VersionVector = Object.freeze({});

function counterOf(vv: VersionVector, actor: string): number {
  return Object.prototype.hasOwnProperty.call(vv, actor) ? vv[actor] : 0;
}

function assertCounter(actor: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`version vector entry ${actor}=${n} is not a non-negative integer`);
}

/** Drops zero entries and sorts actors, so equal histories serialise identically. */
export function normalizeVersionVector(vv: VersionVector): VersionVector {
  const out: Record<string, number> = {};
  for (const actor of Object.keys(vv).sort()) {
    assertCounter(actor, vv[actor]);
    if (vv[actor] > 0) out[actor] = vv[actor];
  }
  return out;
}

export function incrementVersionVector(vv: VersionVector, actor: string): VersionVector {
  return normalizeVersionVector({ ...vv, [actor]: counterOf(vv, actor) + 1 });
}

/** How `a` relates to `b`: 'before' means every event `a` saw, `b` saw too, and b saw more. */
export function compareVersionVectors(a: VersionVector, b: VersionVector): VersionOrder {
  let aAhead = false;
  let bAhead = false;
  for (const actor of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = counterOf(a, actor);
    const y = counterOf(b, actor);
    if (x > y) aAhead = true;
    else if (y > x) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}

export function mergeVersionVectors(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = {};
  for (const actor of new Set([...Object.keys(a), ...Object.keys(b)])) out[actor] = Math.max(counterOf(a, actor), counterOf(b, actor));
  return normalizeVersionVector(out);
}
