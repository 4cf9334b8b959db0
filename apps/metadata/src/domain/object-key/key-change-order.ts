import { createHash } from 'node:crypto';
import { compareVersionVectors, decodeHlc, encodeHlc, incrementVersionVector, type VersionVector } from '@cairn/hashing';
import { NULL_VERSION_ID, type ConflictSide } from '@cairn/protocol';

/**
 * How a key's changes are ordered across regions (docs/replication.md): by HLC, then by region id,
 * the same way in every region. Versions written before regions federated have no region: they
 * sort as the empty region.
 */
export interface OrderedChange {
  readonly hlc: string;
  readonly region: string;
}

/** Negative when `a` comes before `b` (is older), positive when after. HLCs are fixed-width hex: string order is time order. */
export function compareChanges(a: OrderedChange, b: OrderedChange): number {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  if (a.region !== b.region) return a.region < b.region ? -1 : 1;
  return 0;
}

/** The first HLC after `floor`, or `proposed` when it already is after it: a local write lands on top of every version the key holds. */
export function hlcAfter(proposed: string, floor: string | null): string {
  if (floor === null || proposed > floor) return proposed;
  const { wallMs, logical } = decodeHlc(floor);
  return encodeHlc({ wallMs, logical: logical + 1 });
}

/** The vector a region's next change of the key carries: everything the key has seen, plus one of its own. */
export function nextLocalVector(keyVector: VersionVector, region: string): VersionVector {
  return incrementVersionVector(keyVector, region);
}

/** True when neither change had seen the other (two regions wrote without hearing of each other). */
export function areConcurrent(a: VersionVector | null | undefined, b: VersionVector | null | undefined): boolean {
  if (!a || !b) return false;
  return compareVersionVectors(a, b) === 'concurrent';
}

/**
 * The id a losing `null` version is kept under, the same in every region: its HLC and region, so
 * it is unique per key and sorts with the version ids metadata makes (HLC first).
 */
export function loserVersionIdOf(change: OrderedChange): string {
  return `${change.hlc.replace('-', '')}-${change.region || 'local'}`;
}

/** Whether a version is the `null` version written at `hlc`, under its own id or renamed as a conflict's loser. */
export function isNullVersionAt(version: { readonly versionId: string; readonly hlc: string }, hlc: string): boolean {
  return version.hlc === hlc && (version.versionId === NULL_VERSION_ID || version.versionId.startsWith(`${hlc.replace('-', '')}-`));
}

/** One id per conflict, whichever region resolves it and whichever side arrived first. */
export function conflictIdOf(a: ConflictSide, b: ConflictSide): string {
  const sides = [a, b].map((s) => `${s.kind}:${s.versionId}:${s.hlc}:${s.region}`).sort();
  return createHash('sha256').update(sides.join('|')).digest('hex').slice(0, 32);
}
