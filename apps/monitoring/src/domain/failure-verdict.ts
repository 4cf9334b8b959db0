import { assertNever } from '@cairn/eventing';
import { PHI_DOWN_THRESHOLD, PHI_SUSPECT_THRESHOLD, type InstanceStatus } from './phi-accrual.detector';

/**
 * When an instance is judged suspected or down: phi adapts to how regular its heartbeats have
 * been, the silences bound it on both sides, so "down after about three missed heartbeats" holds
 * whatever phi has learnt:
 * - down when silent for `downAfterMs`, or when phi ≥ `downPhi` after at least `suspectAfterMs`;
 * - suspected when silent for `suspectAfterMs`, or when phi ≥ `suspectPhi`.
 */
export interface FailureThresholds {
  readonly suspectAfterMs: number;
  readonly downAfterMs: number;
  readonly suspectPhi: number;
  readonly downPhi: number;
}

/** For the 1 s heartbeat services send (HEARTBEAT_INTERVAL_MS in service-kit). */
export const DEFAULT_FAILURE_THRESHOLDS: FailureThresholds = { suspectAfterMs: 2_000, downAfterMs: 3_000, suspectPhi: PHI_SUSPECT_THRESHOLD, downPhi: PHI_DOWN_THRESHOLD };

export function failureVerdict(phi: number, silenceMs: number, t: FailureThresholds): InstanceStatus {
  if (silenceMs >= t.downAfterMs || (phi >= t.downPhi && silenceMs >= t.suspectAfterMs)) return 'down';
  if (silenceMs >= t.suspectAfterMs || phi >= t.suspectPhi) return 'suspected';
  return 'up';
}

export type HealthAnnouncement = 'NodeSuspected' | 'NodeDown' | 'NodeRecovered';

/**
 * What to append to CLUSTER, given the last verdict announced there for the instance (undefined
 * when none ever was: it has been up since it was first heard) and the verdict now. Only changes
 * are announced; a suspicion after a down verdict is no news (only a recovery clears it).
 */
export function announcementFor(announced: InstanceStatus | undefined, verdict: InstanceStatus): HealthAnnouncement | null {
  const last = announced ?? 'up';
  if (verdict === last) return null;
  switch (verdict) {
    case 'up':
      return 'NodeRecovered';
    case 'suspected':
      return last === 'down' ? null : 'NodeSuspected';
    case 'down':
      return 'NodeDown';
    default:
      return assertNever(verdict, 'verdict');
  }
}

/** The verdict an event announced. */
export function statusAnnounced(type: HealthAnnouncement): InstanceStatus {
  switch (type) {
    case 'NodeSuspected':
      return 'suspected';
    case 'NodeDown':
      return 'down';
    case 'NodeRecovered':
      return 'up';
    default:
      return assertNever(type, 'announcement');
  }
}
