/**
 * The phi-accrual failure detector (Hayashibara et al.): instead of a fixed timeout it says how
 * unlikely it is, given the intervals seen so far, that a heartbeat this late is merely late.
 * phi = -log10(P(interval > elapsed)) under a normal fit of recent intervals. Pure: time comes in.
 */
export const PHI_WINDOW_SIZE = 100;
/** A floor on the deviation so a perfectly regular sender is not declared dead after one jitter. */
export const PHI_MIN_STD_DEVIATION_MS = 100;
/** Heartbeats may pause this long (GC, a busy loop) before suspicion starts to grow. */
export const PHI_ACCEPTABLE_PAUSE_MS = 1_000;
/** Until real intervals are seen, assume the heartbeat period services use, so an instance that
 * dies right after its first heartbeat is still found out. */
export const PHI_FIRST_INTERVAL_ESTIMATE_MS = 1_000;

export class PhiAccrualDetector {
  private readonly intervalsMs: number[] = [];
  private lastArrivalMs: number | undefined;

  constructor(
    private readonly windowSize = PHI_WINDOW_SIZE,
    private readonly minStdDeviationMs = PHI_MIN_STD_DEVIATION_MS,
    private readonly acceptablePauseMs = PHI_ACCEPTABLE_PAUSE_MS,
    firstIntervalEstimateMs = PHI_FIRST_INTERVAL_ESTIMATE_MS,
  ) {
    this.intervalsMs.push(firstIntervalEstimateMs);
  }

  get lastHeartbeatMs(): number | undefined {
    return this.lastArrivalMs;
  }

  heartbeat(nowMs: number): void {
    if (this.lastArrivalMs !== undefined) {
      const interval = nowMs - this.lastArrivalMs;
      if (interval < 0) throw new Error(`heartbeat at ${nowMs} is before the last one at ${this.lastArrivalMs}`);
      this.intervalsMs.push(interval);
      if (this.intervalsMs.length > this.windowSize) this.intervalsMs.shift();
    }
    this.lastArrivalMs = nowMs;
  }

  phi(nowMs: number): number {
    if (this.lastArrivalMs === undefined) return 0;
    const elapsed = nowMs - this.lastArrivalMs;
    const mean = this.intervalsMs.reduce((a, b) => a + b, 0) / this.intervalsMs.length + this.acceptablePauseMs;
    const variance = this.intervalsMs.reduce((a, b) => a + (b - mean + this.acceptablePauseMs) ** 2, 0) / this.intervalsMs.length;
    const std = Math.max(Math.sqrt(variance), this.minStdDeviationMs);
    // Logistic approximation of the normal CDF's tail (as Akka and Cassandra use), stable far out.
    const y = (elapsed - mean) / std;
    const exponent = -y * (1.5976 + 0.070566 * y * y);
    // Computed in log space: far out the tail underflows to 0 but phi must keep growing.
    if (elapsed > mean) return (Math.log1p(Math.exp(exponent)) - exponent) / Math.LN10;
    const e = Math.exp(exponent);
    return -Math.log10(1 - 1 / (1 + e));
  }
}

export type InstanceStatus = 'up' | 'suspected' | 'down';

/** The default phi thresholds (CAIRN_FAILURE_SUSPECT_PHI / CAIRN_FAILURE_DOWN_PHI); failureVerdict bounds them by silence. */
export const PHI_SUSPECT_THRESHOLD = 3;
export const PHI_DOWN_THRESHOLD = 8;

/** phi alone, by the default thresholds (failureVerdict is what monitoring decides by). */
export function statusForPhi(phi: number): InstanceStatus {
  if (phi >= PHI_DOWN_THRESHOLD) return 'down';
  if (phi >= PHI_SUSPECT_THRESHOLD) return 'suspected';
  return 'up';
}
